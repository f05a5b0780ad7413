"""A throwaway PostgreSQL cluster on 127.0.0.1 (initdb, then postgres), for the tests and the
benchmarks: real PostgreSQL, no service or configuration of the machine touched.

``PgCluster()`` makes one in a temp folder and removes it on ``stop()``; ``PgCluster(base)``
keeps its data in ``base`` between uses (the server benchmark's 100,000-run store). As root,
the server runs as the ``postgres`` user (postgres refuses root). Durability is off (no fsync):
what a crash of the machine would lose is rebuilt.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from mlflow_stores import free_port


def pg_bin() -> str | None:
    """The folder of initdb and postgres: on PATH, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    return dirs[-1] if dirs else None


def unavailable() -> str | None:
    """Why no cluster can be started here (words for a skip), None when one can."""
    if pg_bin() is None:
        return "PostgreSQL is not installed (initdb not found)"
    try:
        import psycopg  # noqa: F401 - SQLAlchemy 2.1 reads postgresql:// with psycopg 3
    except ImportError:
        return "psycopg is not installed"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None


class PgCluster:
    """A PostgreSQL server of its own on a free port of 127.0.0.1, user ``postgres``, trust
    authentication (only local clients reach it). ``uri(db)`` is the SQLAlchemy URL MLflow
    takes; ``connect(db)`` a psycopg connection (autocommit)."""

    def __init__(self, base: Path | str | None = None, timeout: float = 120):
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        self.bindir = pg_bin()
        self.temporary = base is None
        self.base = Path(tempfile.mkdtemp(prefix="mlscope-pg-") if base is None else base)
        self.data = self.base / "data"
        self.as_user = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            self.as_user = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
        self.base.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o755)
        if self.as_user:
            shutil.chown(self.base, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._initdb(timeout)
        self.port = free_port()
        self.log_path = self.base / "postgres.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - the server's, closed on stop()
        self.proc = subprocess.Popen(
            [*self.as_user, f"{self.bindir}/postgres", "-D", str(self.data), "-p", str(self.port),
             "-k", str(self.base), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self._wait(timeout)

    def _initdb(self, timeout: float) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir()
        if self.as_user:
            shutil.chown(self.data, "postgres", "postgres")
        subprocess.run([*self.as_user, f"{self.bindir}/initdb", "-D", str(self.data), "-U",
                        "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"],
                       check=True, capture_output=True, timeout=timeout)

    def _wait(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.dsn(), connect_timeout=2).close()
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    log = self.log_path.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start in {self.data}: {exc}\n{log}") from exc
                time.sleep(0.3)

    def dsn(self, db: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db}"

    def uri(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def connect(self, db: str = "postgres"):
        import psycopg

        return psycopg.connect(self.dsn(db), autocommit=True)

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URI."""
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.uri(name)

    def has_database(self, name: str) -> bool:
        with self.connect() as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None

    def stop(self) -> None:
        """A fast shutdown (it does not wait for pooled clients), clean on disk; the folder goes
        with it when it was a temporary one."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self.temporary:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
