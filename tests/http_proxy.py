"""A small HTTP proxy on 127.0.0.1 in front of a real `mlflow server`, for the network faults
the app must live through: slow answers, answers cut mid-body, HTTP 500, a refused login,
the proxy itself gone (nothing listening), and an upstream server killed (the connection
dropped without an answer, as the dead server's would be). The server stays as MLflow runs
it; ``upstream`` can be pointed at a restarted one, so the app's URL does not change."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from mlflow_stores import free_port

HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length"}


class Proxy:
    """Forwards HTTP to ``upstream``. Faults, on requests whose path contains ``only`` (all
    when empty; or ``only(path, body)`` says which): ``delay`` seconds first; ``status`` answered instead of forwarding (500: an
    MLflow-like error body); ``cut``: the headers and half the body, then the connection
    closes; ``refuse``: 401 as MLflow's basic-auth app answers a wrong password.
    ``stop()``/``start()`` on one port. ``requests`` counts what was forwarded, by path."""

    def __init__(self, upstream: str):
        self.upstream, self.port = upstream, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.clear()
        self.requests: dict[str, int] = {}
        self.start()

    def clear(self) -> None:
        """No fault: every request forwarded at once."""
        self.delay, self.status, self.cut, self.refuse, self.only = 0.0, None, False, False, ""

    def start(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):  # HTTP/1.0: a connection per request, so
            # stop() leaves no kept-alive connection still answering
            def _answer(self, code: int, body: bytes = b"", headers=()) -> None:
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?")[0]
                only = proxy.only
                faulty = only(path, body) if callable(only) else only in path
                if faulty and proxy.delay:
                    time.sleep(proxy.delay)
                if faulty and proxy.refuse:
                    return self._answer(401, headers=[("WWW-Authenticate", 'Basic realm="mlflow"')])
                if faulty and proxy.status:
                    error = {"error_code": "INTERNAL_ERROR", "message": "the proxy's deliberate error"}
                    return self._answer(proxy.status, json.dumps(error).encode(),
                                        [("Content-Type", "application/json")])
                try:
                    r = requests.request(self.command, proxy.upstream + self.path, data=body, timeout=120,
                                         headers={k: v for k, v in self.headers.items()
                                                  if k.lower() != "host"})
                except requests.RequestException:
                    self.close_connection = True  # the server is gone: so is the connection
                    return
                proxy.requests[path] = proxy.requests.get(path, 0) + 1
                headers = [(k, v) for k, v in r.headers.items() if k.lower() not in HOP]
                if faulty and proxy.cut:
                    self.send_response(r.status_code)
                    for k, v in headers:
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(r.content)))
                    self.end_headers()
                    self.wfile.write(r.content[: len(r.content) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._answer(r.status_code, r.content, headers)

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
