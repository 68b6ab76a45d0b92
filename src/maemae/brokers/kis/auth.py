"""KIS credentials and the access token: read from the environment, cached on disk, issued sparingly.

KIS issues an access token valid for a day, at most once a minute, and notifies the account holder on each
issuance; so the token is cached in a file only the owner may read (mode 0600) and reused across restarts
until shortly before it expires. The cache is keyed by the server and a fingerprint of the app key, so a
paper token is never sent to the real server or the other way round. The secret itself is never written.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from maemae.config.broker import KisBrokerConfig
from maemae.domain.clock_time import KST
from maemae.errors import ConfigError
from maemae.wording import unset_variables

TOKEN_MARGIN = timedelta(minutes=10)  # renew this long before KIS's stated expiry
ISSUE_INTERVAL = timedelta(minutes=1)  # KIS: one issuance per minute


@dataclass(frozen=True, slots=True)
class KisCredentials:
    app_key: str
    app_secret: str
    account: str  # CANO: the 8-digit account number
    product_code: str  # ACNT_PRDT_CD: "01" for a stock account
    hts_id: str  # the HTS user id: the key of the fill-notice subscription

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.app_key.encode()).hexdigest()[:16]

    @classmethod
    def from_environment(
        cls, config: KisBrokerConfig, environ: Mapping[str, str] | None = None
    ) -> KisCredentials:
        """Read the secrets from the environment variables the config names; the missing ones are one line
        naming every one of them (one at a time had the user fix and run again up to four times)."""
        env = os.environ if environ is None else environ
        variables = {
            "app_key_env": config.app_key_env,
            "app_secret_env": config.app_secret_env,
            "account_env": config.account_env,
            "hts_id_env": config.hts_id_env,
        }
        values = {field: env.get(variable, "").strip() for field, variable in variables.items()}
        missing = [field for field, value in values.items() if not value]
        said = unset_variables([variables[field] for field in missing], env)
        if len(missing) == 1:
            raise ConfigError(
                f"broker.kis.{missing[0]}: environment variable {said} "
                "(see docs/brokers/kis.md for where the value comes from)"
            )
        if missing:
            raise ConfigError(
                f"broker.kis: environment variables {said} "
                "(see docs/brokers/kis.md for where the values come from)"
            )
        account = values["account_env"].replace("-", "")
        if len(account) == 10:  # "12345678-01" written as one number: the last two digits are the product
            account = account[:8]
        if len(account) != 8 or not account.isdigit():
            raise ConfigError(
                f"broker.kis.account_env: {config.account_env} holds an account number of "
                f"{len(account)} characters, expected the 8 digits of the account (CANO)"
            )
        return cls(
            app_key=values["app_key_env"],
            app_secret=values["app_secret_env"],
            account=account,
            product_code=config.product_code,
            hts_id=values["hts_id_env"],
        )


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    expires_at: datetime
    issued_at: datetime

    def usable(self, now: datetime) -> bool:
        return now < self.expires_at - TOKEN_MARGIN


class TokenCache:
    """The token file: one entry per (server, app key fingerprint); written atomically, owner-only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, server: str, fingerprint: str) -> AccessToken | None:
        try:
            entries: dict[str, Any] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None  # no cache yet, or a damaged one: a new token is issued and the file rewritten
        entry = entries.get(_key(server, fingerprint))
        if not isinstance(entry, dict):
            return None
        try:
            return AccessToken(
                entry["token"],
                datetime.fromisoformat(entry["expires_at"]),
                datetime.fromisoformat(entry["issued_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def save(self, server: str, fingerprint: str, token: AccessToken) -> None:
        try:
            entries = json.loads(self.path.read_text())
            if not isinstance(entries, dict):
                entries = {}
        except (OSError, ValueError):
            entries = {}
        entries[_key(server, fingerprint)] = {
            "token": token.value,
            "expires_at": token.expires_at.isoformat(),
            "issued_at": token.issued_at.isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(entries, handle)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)


def _key(server: str, fingerprint: str) -> str:
    return f"{server}|{fingerprint}"


def parse_expiry(text: str) -> datetime:
    """KIS's ``access_token_token_expired``: "YYYY-MM-DD HH:MM:SS" in Korean time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=KST)


class TokenKeeper:
    """Hands out a usable token: the cached one while it lasts, else a new one, never two issuances within
    a minute (it waits out the rest of the minute instead)."""

    def __init__(
        self,
        cache: TokenCache,
        server: str,
        fingerprint: str,
        issue: Callable[[], AccessToken],
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        self._cache, self._server, self._fingerprint = cache, server, fingerprint
        self._issue, self._clock, self._sleep = issue, clock, sleep
        self._token = cache.load(server, fingerprint)
        self.issued = 0

    def token(self) -> str:
        if self._token is None or not self._token.usable(self._clock()):
            self.renew()
        assert self._token is not None
        return self._token.value

    def renew(self) -> None:
        """Issue a new token (the server said the current one expired, or it is about to)."""
        if self._token is not None:
            wait = (self._token.issued_at + ISSUE_INTERVAL - self._clock()).total_seconds()
            if wait > 0:
                self._sleep(wait)
        self._token = self._issue()
        self.issued += 1
        self._cache.save(self._server, self._fingerprint, self._token)
