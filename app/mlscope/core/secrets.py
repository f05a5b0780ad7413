"""Passwords and tokens never leave mlscope's memory: URLs are shown, logged and remembered
with the password masked (``postgresql://mlflow:***@host/db``)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

MASK = "***"


def redact(target) -> str:
    """``target`` with any password in its URL replaced by ``***`` (paths come back as they are)."""
    text = str(target)
    if "://" not in text or "@" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if parts.password is None:
        return text
    netloc = parts.netloc
    user_info, at, host = netloc.rpartition("@")
    user = user_info.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}{at}{host}"))


def has_secret(target) -> bool:
    return redact(target) != str(target)


def without_password(target) -> str:
    """What may be remembered (recent stores): the URL with no password at all, so reopening
    it asks the database's or MLflow's own credential sources, never a saved secret."""
    text = redact(target)
    return text.replace(f":{MASK}@", "@", 1) if text != str(target) else text
