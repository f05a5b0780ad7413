"""Passwords and tokens in the system keyring (the ``keyring`` package), nowhere else.

A backend counts as available when ``keyring`` picked a real one: not its "fail" or "null"
backends (no keyring on this machine) and not a plain-text file (keyrings.alt's
PlaintextKeyring would write the secret to disk readable; its EncryptedKeyring asks for its
master password on a terminal unless unlocked). Otherwise nothing is saved and the dialog
says so.
"""

from __future__ import annotations

SERVICE = "mlscope"
TOKEN_USER = "(token)"  # the keyring's "username" under which a server's bearer token is kept
NOT_SECURE = ("fail", "null", "PlaintextKeyring")


def _service(url: str) -> str:
    return f"{SERVICE} {url.strip().rstrip('/')}"


def backend():
    """The keyring backend in use, or None when there is none fit for secrets."""
    try:
        import keyring
        from keyring.backends import chainer

        kr = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a broken keyring install is "no keyring"
        return None
    if isinstance(kr, chainer.ChainerBackend):
        fit = [b for b in kr.backends if not _unfit(b)]
        return kr if fit else None
    return None if _unfit(kr) else kr


def _unfit(kr) -> bool:
    mod, name = type(kr).__module__, type(kr).__name__
    if name == "EncryptedKeyring" and "keyring_key" not in vars(kr):
        return True  # it would ask its master password on a terminal (getpass): not in an app
    return (mod.endswith((".fail", ".null")) or name in NOT_SECURE
            or getattr(kr, "priority", 1) <= 0)


def status() -> tuple[bool, str]:
    """(available, words for the dialog)."""
    kr = backend()
    if kr is None:
        return False, ("No system keyring is available, so passwords and tokens are not saved: "
                       "you type them at each connect (or set MLflow's variables).")
    return True, f"Passwords and tokens are kept in the system keyring ({type(kr).__name__})."


def load(url: str, username: str | None) -> str | None:
    """The secret saved for ``url`` and ``username`` (None for a token), or None."""
    kr = backend()
    if kr is None:
        return None
    try:
        return kr.get_password(_service(url), username or TOKEN_USER)
    except Exception:  # noqa: BLE001 - a locked or broken keyring: ask the user instead
        return None


def save(url: str, username: str | None, secret: str) -> str:
    """Save ``secret``; words for the status bar on success or why it was not saved."""
    kr = backend()
    if kr is None:
        return "The password was not saved: no system keyring is available."
    try:
        kr.set_password(_service(url), username or TOKEN_USER, secret)
    except Exception as exc:  # noqa: BLE001 - the keyring refused: say so, keep going
        return f"The keyring did not save the secret ({type(exc).__name__})."
    return f"Saved the {'password' if username else 'token'} for {url} in the system keyring."


def delete(url: str, username: str | None) -> None:
    kr = backend()
    if kr is None:
        return
    try:
        kr.delete_password(_service(url), username or TOKEN_USER)
    except Exception:  # noqa: BLE001 - nothing saved, or the keyring is locked
        pass
