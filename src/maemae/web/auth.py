"""The dashboard's access token and its checks.

One secret token per instance, generated at the first start into a file only its owner can read (the file
is refused if others can read it). A browser logs in once with it and then carries a session cookie derived
from it (HttpOnly, SameSite=Strict), never the token itself; a script may send ``Authorization: Bearer
<token>``. State-changing requests made with the cookie must also carry the page's CSRF token in
``X-CSRF-Token`` and must not come from another origin, so a page on another site cannot use the operator's
session.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from maemae.data.parquet_io import not_a_folder
from maemae.errors import ConfigError, first_line

SESSION_COOKIE = "maemae_session"
CSRF_HEADER = "x-csrf-token"


def load_or_create_token(path: Path) -> str:
    """The token in ``path``; created (mode 0600) when the file does not exist. A path that cannot hold it (a
    file where one of its folders goes, a folder where the file goes) is one line naming web.token_file
    (exit 2) as the dashboard starts, not a traceback."""
    if path.is_dir():
        raise ConfigError(f"web.token_file {path}: is a folder; expected the token file")
    if not path.exists():
        try:
            return _create_token(path)
        except OSError as error:
            blocking = not_a_folder(path.parent)
            why = (
                f"{blocking} is a file; expected a folder"
                if blocking
                else error.strerror or first_line(error)
            )
            raise ConfigError(f"web.token_file {path}: cannot create it: {why}") from None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"web.token_file {path}: mode {mode:o} lets other users read it: expected 600 (chmod 600 {path})"
        )
    token = path.read_text(encoding="utf-8").strip()
    if len(token) < 16:
        raise ConfigError(f"web.token_file {path}: token of {len(token)} characters: expected at least 16")
    return token


def _create_token(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def _derive(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


class Credentials:
    """What a request is checked against; derived values so the cookie and the page never hold the token."""

    def __init__(self, token: str) -> None:
        self._token = token
        self.session = _derive(token, "session")
        self.csrf = _derive(token, "csrf")

    def is_token(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.strip(), self._token)

    def is_session(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate, self.session)

    def is_csrf(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate, self.csrf)


def same_origin(origin: str | None, fetch_site: str | None, host: str | None) -> bool:
    """False for a request a browser marks as coming from another site (``Origin`` or ``Sec-Fetch-Site``)."""
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    if origin is None:
        return True
    return origin.split("://", 1)[-1] == (host or "")
