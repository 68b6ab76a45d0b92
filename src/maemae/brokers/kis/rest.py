"""KIS REST transport: headers, the token, the request budget, paging and the translation of KIS's errors.

Every call the adapter makes goes through :class:`KisRest`, which

* sends KIS's headers (``authorization``, ``appkey``, ``appsecret``, ``tr_id``, ``custtype``, ``tr_cont``)
  with the body keys upper-case and every number as a string;
* takes a token from its request bucket first (KIS allows 20 requests/s on the real server and about 2/s on
  paper; the figure is the config's), so maemae waits instead of being refused;
* on ``EGW00201`` (over the rate limit) backs off and tries again: KIS refused the request at its gateway,
  so even an order was not placed;
* on an expired or invalid token issues a new one and sends the request once more (same reason);
* translates everything else into maemae's error family: no connection at all, for any request (the token
  and WebSocket-key requests too), is ``BrokerConnectionLost`` (the run saves its state and exits with
  code 7 for the supervisor to restart it); a read that failed in transport or with a server error is
  ``RetryableBrokerError``; an order whose request may have reached KIS (timeout, dropped connection, a
  5xx) is ``SubmitOutcomeUnknown`` (settled later by querying the day's orders, never sent again); an order
  KIS answered with an error is ``OrderRejected``; a bad key or account is ``FatalBrokerError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from maemae.brokers.kis import protocol
from maemae.brokers.kis.auth import AccessToken, KisCredentials, TokenCache, TokenKeeper, parse_expiry
from maemae.domain.clock_time import KST
from maemae.errors import (
    BrokerConnectionLost,
    FatalBrokerError,
    OrderRejected,
    RetryableBrokerError,
    SubmitOutcomeUnknown,
)
from maemae.pacing import TokenBucket

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class KisReply:
    body: Json
    continues: bool  # the response header tr_cont says more pages follow (M or F)


class KisRest:
    def __init__(
        self,
        *,
        base_url: str,
        credentials: KisCredentials,
        paper: bool,
        token_cache: TokenCache,
        bucket: TokenBucket,
        sleep: Callable[[float], None],
        wall_clock: Callable[[], datetime] = lambda: datetime.now(KST),
        timeout: float = 10.0,
        rate_limit_retries: int = 5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.paper = paper
        self.base_url = base_url
        self.credentials = credentials
        self._bucket, self._sleep, self._clock = bucket, sleep, wall_clock
        self._retries = rate_limit_retries
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self.tokens = TokenKeeper(
            token_cache, base_url, credentials.fingerprint, self._issue_token, wall_clock, sleep
        )
        self.calls = 0
        self.rate_limited = 0
        self.before_request: Callable[[], None] | None = None  # a replay feed delivers its bars here

    def close(self) -> None:
        self._http.close()

    # ----- auth endpoints (no token needed)
    def _issue_token(self) -> AccessToken:
        body = self._post_plain(
            protocol.TOKEN_PATH,
            {
                "grant_type": "client_credentials",
                "appkey": self.credentials.app_key,
                "appsecret": self.credentials.app_secret,
            },
        )
        try:
            expires = parse_expiry(body["access_token_token_expired"])
            return AccessToken(body["access_token"], expires, self._clock())
        except (KeyError, ValueError) as error:
            raise FatalBrokerError(f"KIS token reply is missing {error}: {body}") from None

    def approval_key(self) -> str:
        """The WebSocket approval key (KIS names the secret ``secretkey`` here)."""
        body = self._post_plain(
            protocol.APPROVAL_PATH,
            {
                "grant_type": "client_credentials",
                "appkey": self.credentials.app_key,
                "secretkey": self.credentials.app_secret,
            },
        )
        key = body.get("approval_key")
        if not isinstance(key, str) or not key:
            raise FatalBrokerError(f"KIS approval reply has no approval_key: {body}")
        return key

    def _post_plain(self, path: str, payload: Json) -> Json:
        for attempt in range(self._retries + 1):
            self._bucket.take()
            self.calls += 1
            try:
                response = self._http.post(path, json=payload)
            except httpx.HTTPError as error:
                raise _transport_failure(error, path, order=False) from None
            body = _json(response)
            code = str(body.get("msg_cd") or body.get("error_code") or "")
            if code == protocol.RATE_LIMITED or code == protocol.TOKEN_TOO_SOON:
                self._back_off(attempt)
                continue
            if response.status_code >= 500:
                raise RetryableBrokerError(f"KIS {path}: HTTP {response.status_code}")
            if response.status_code != 200:
                raise FatalBrokerError(
                    f"KIS {path}: HTTP {response.status_code} {code} "
                    f"{body.get('msg1') or body.get('error_description') or ''}".rstrip()
                )
            return body
        raise RetryableBrokerError(f"KIS {path}: still over the rate limit after {self._retries} retries")

    # ----- the API
    def get(self, path: str, tr: protocol.TrId, params: Mapping[str, str], tr_cont: str = "") -> KisReply:
        return self._call("GET", path, tr, params, tr_cont, order=False)

    def order(self, path: str, tr: protocol.TrId, body: Mapping[str, str]) -> Json:
        """An order request (new, modify, cancel): see the module docstring for what each failure means."""
        return self._call("POST", path, tr, body, "", order=True).body

    def pages(
        self, path: str, tr: protocol.TrId, params: Mapping[str, str], keys: tuple[str, str]
    ) -> Iterator[Json]:
        """Every page of a paged query: KIS's header ``tr_cont`` M/F means more; the next request carries
        ``tr_cont: N`` and the continuation keys from the last body (lower-case there, upper-case sent)."""
        request = dict(params)
        tr_cont = ""
        for _ in range(1000):
            reply = self.get(path, tr, request, tr_cont)
            yield reply.body
            if not reply.continues:
                return
            for key in keys:
                request[key] = str(reply.body.get(key.lower(), "")).strip()
            tr_cont = "N"
        raise RetryableBrokerError(f"KIS {path}: more than 1000 pages")

    def _call(
        self, method: str, path: str, tr: protocol.TrId, data: Mapping[str, str], tr_cont: str, *, order: bool
    ) -> KisReply:
        if self.before_request is not None:
            self.before_request()
        renewed = False
        attempt = 0
        while True:
            headers = self._headers(tr.on(self.paper), tr_cont)
            self._bucket.take()
            self.calls += 1
            try:
                if method == "GET":
                    response = self._http.get(path, params=dict(data), headers=headers)
                else:
                    response = self._http.post(path, json=dict(data), headers=headers)
            except httpx.HTTPError as error:
                raise _transport_failure(error, path, order=order) from None
            body = _json(response)
            code = str(body.get("msg_cd", ""))
            if code == protocol.RATE_LIMITED:
                self.rate_limited += 1
                if attempt >= self._retries:
                    raise RetryableBrokerError(
                        f"KIS {path}: over the rate limit ({code}) after {attempt} retries"
                    )
                self._back_off(attempt)
                attempt += 1
                continue
            if code in protocol.TOKEN_ERRORS and not renewed:
                self.tokens.renew()
                renewed = True
                continue
            if response.status_code >= 500 or (response.status_code != 200 and not body):
                raise _unsure(order, path, f"HTTP {response.status_code}")
            if str(body.get("rt_cd", "")) != protocol.SUCCESS:
                raise _refused(order, path, tr, code, str(body.get("msg1", "")).strip())
            return KisReply(body, response.headers.get("tr_cont", "") in ("M", "F"))

    def _headers(self, tr_id: str, tr_cont: str) -> dict[str, str]:
        return {
            "content-type": "application/json; charset=utf-8",
            "authorization": f"Bearer {self.tokens.token()}",
            "appkey": self.credentials.app_key,
            "appsecret": self.credentials.app_secret,
            "tr_id": tr_id,
            "custtype": "P",
            "tr_cont": tr_cont,
        }

    def _back_off(self, attempt: int) -> None:
        self._sleep(min(0.25 * 2**attempt, 8.0))


def _json(response: httpx.Response) -> Json:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _transport_failure(error: httpx.HTTPError, path: str, *, order: bool) -> Exception:
    """What a request that got no reply means, the same for every KIS request, the token and the WebSocket
    key included (so KIS unreachable at the start is a lost connection, exit 7, as it is mid-run, and
    ``--supervise`` retries it): no connection made (refused, no route, no name) is
    ``BrokerConnectionLost``, nothing was sent; a timeout or a dropped connection, after which the request
    may have arrived, is ``SubmitOutcomeUnknown`` for an order and ``RetryableBrokerError`` for the rest."""
    if isinstance(error, httpx.ConnectError):
        return BrokerConnectionLost(f"KIS {path}: cannot connect ({error!r})")
    if isinstance(error, httpx.TimeoutException):
        return _unsure(order, path, f"timed out ({error!r})")
    return _unsure(order, path, f"connection failed ({error!r})")


def _unsure(order: bool, path: str, what: str) -> Exception:
    if order:
        return SubmitOutcomeUnknown(f"KIS {path}: {what}; the order may have been placed")
    return RetryableBrokerError(f"KIS {path}: {what}")


def _refused(order: bool, path: str, tr: protocol.TrId, code: str, message: str) -> Exception:
    text = f"KIS {path} ({tr.real}): {code} {message}".rstrip()
    if code in protocol.FATAL_ERRORS:
        return FatalBrokerError(text)
    if order:
        return OrderRejected(text)
    return FatalBrokerError(text)
