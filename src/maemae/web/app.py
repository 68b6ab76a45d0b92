"""The web dashboard (FastAPI): one page that polls ``/api/view`` and a few guarded actions.

Routes (every one needs the token, see ``web.auth``):

======================  ============================================================================
``GET /``               the dashboard, or the login form (status 401) without a valid session
``POST /login``         form field ``token``: sets the session cookie
``POST /logout``        clears it
``GET /api/view``       everything the page shows (``service.dashboard``), the trading process and
                        ``halt_file``: the flag file's path while it exists, else null
``POST /api/state``     ``{"state": "halted" | "reducing" | "active", "reason": ...}``; ``active`` and
                        ``reducing`` are refused (409, nothing saved) while the flag file
                        ``execution.halt_file`` exists
``POST /api/params``    ``{"key": "risk.stop_loss.pct", "value": 4}``, validated like ``params set``: the
                        value as JSON (a number, true/false, an object, a list) or as the text the CLI
                        takes (``"4"``), refused with the CLI's line
``POST /api/start``     start ``maemae run`` (``web.process``); ``POST /api/stop`` stops it
``GET /report/DAY``     a closed day's end-of-day report (HTML); 400 when DAY is not a date, 404 when
                        the day never closed or its report is not in the report folder
======================  ============================================================================

Every refusal, the routes' own and FastAPI's (a wrong token, a malformed body, no such path), answers
``{"error": "one line"}`` with its status.

Reads and changes go through the application services the CLI uses (``service.status``,
``service.dashboard``, ``service.control``), so the page and ``maemae status`` always agree.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast

import structlog
from fastapi import Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, JsonValue
from pydantic_core import ErrorDetails
from starlette.exceptions import HTTPException as StarletteHTTPException

from maemae.config import MaemaeConfig
from maemae.config.loader import expected_text
from maemae.engine.clock import WallClock
from maemae.engine.operator import HaltFileHolds, check_resumable, halting_flag_file
from maemae.errors import MaemaeError
from maemae.ports.state import StateStore
from maemae.risk.state import TradingState
from maemae.service.control import change_parameter, set_trading_state
from maemae.service.dashboard import dashboard_view, report_days
from maemae.service.korean import Lang, korean_texts
from maemae.service.names import StockNames
from maemae.service.report import report_dir
from maemae.service.status import instance_day
from maemae.web.auth import CSRF_HEADER, SESSION_COOKIE, Credentials, same_origin
from maemae.web.labels import labels
from maemae.web.process import TradingProcess

log = structlog.get_logger("maemae.web")

HERE = Path(__file__).parent
LANG_COOKIE = "maemae_lang"


@dataclass(frozen=True, slots=True)
class Dashboard:
    """What the app serves: the instance's config and store, its token, the trading process, and the stock
    names read once when it started (``service.names``): the page polls every 2 seconds, and the instrument
    list changes only with a data import."""

    config: MaemaeConfig
    store: StateStore
    credentials: Credentials
    process: TradingProcess
    names: StockNames


class StateRequest(BaseModel):
    state: Literal["active", "reducing", "halted"]
    reason: str = ""


class ParamRequest(BaseModel):
    """A parameter change. ``value`` is any JSON value: a script sends ``-3`` or ``true``, the page sends
    the text the user typed, and both are validated as ``maemae params set`` validates its argument."""

    key: str
    value: JsonValue


def as_cli_text(value: JsonValue) -> str:
    """``value`` as the text argument of ``maemae params set``, which the service reads as JSON when it
    parses, else as text: a string is the text itself, anything else its JSON. So the service validates it
    and words a refusal (an unknown key, a start-only key, a number out of range) exactly as for the CLI,
    rather than the request model refusing every non-string without naming the key or the value."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class Guard:
    """The token checks every route runs; each refusal is logged with the path, the client and the reason."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    @staticmethod
    def refuse(request: Request, status: int, reason: str) -> HTTPException:
        client = request.client.host if request.client else "?"
        log.warning("dashboard_refused", path=request.url.path, client=client, status=status, reason=reason)
        return HTTPException(status, reason)

    def authenticated(self, request: Request) -> Literal["bearer", "cookie"]:
        header = request.headers.get("authorization", "")
        cookie = request.cookies.get(SESSION_COOKIE)
        if header.lower().startswith("bearer ") and self.credentials.is_token(header[7:]):
            return "bearer"
        if self.credentials.is_session(cookie):
            return "cookie"
        raise self.refuse(request, 401, "wrong token" if header or cookie else "missing token")

    def same_site(self, request: Request) -> None:
        headers = request.headers
        if not same_origin(headers.get("origin"), headers.get("sec-fetch-site"), headers.get("host")):
            raise self.refuse(request, 403, "cross-site request")

    def may_change(self, request: Request) -> str:
        """Who asks for a change; refuses another site's request and a cookie without the CSRF token."""
        how = self.authenticated(request)
        self.same_site(request)
        if how == "cookie" and not self.credentials.is_csrf(request.headers.get(CSRF_HEADER)):
            raise self.refuse(request, 403, "missing or wrong CSRF token")
        return f"dashboard@{request.client.host if request.client else '?'}"


async def protective_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers["X-Frame-Options"] = "DENY"  # no framing: no click-jacking of the buttons
    response.headers["Referrer-Policy"] = "same-origin"  # (no-referrer would send "Origin: null")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def create_app(dashboard: Dashboard) -> FastAPI:
    app = FastAPI(title="maemae", docs_url=None, redoc_url=None, openapi_url=None)
    app.middleware("http")(protective_headers)
    guard = Guard(dashboard.credentials)
    _add_pages(app, dashboard, guard)
    _add_api(app, dashboard, guard)

    @app.exception_handler(HaltFileHolds)
    def held_by_file(request: Request, error: HaltFileHolds) -> JSONResponse:
        """409 rather than 400: the request is sound, the flag file is in the way; ``halt_file`` lets the page
        say so in its own language."""
        client = request.client.host if request.client else "?"
        log.warning("dashboard_state_refused", client=client, halt_file=str(error.halt_file))
        body = {"error": f"refused, nothing saved: {error}", "halt_file": str(error.halt_file)}
        return JSONResponse(body, status_code=409)

    @app.exception_handler(MaemaeError)
    def refused(request: Request, error: MaemaeError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    def answered(request: Request, error: StarletteHTTPException) -> JSONResponse:
        """The HTTP errors the routes raise (a missing report, a wrong token) and the router's own (no such
        path, a wrong method) in the shape of every other refusal, ``{"error": ...}``: FastAPI answers them
        as ``{"detail": ...}``, so a client had to read two keys."""
        return JSONResponse({"error": error.detail}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": malformed_line(error.errors()[0])}, status_code=400)

    return app


def _add_pages(app: FastAPI, dashboard: Dashboard, guard: Guard) -> None:
    templates = Jinja2Templates(directory=HERE / "templates")
    script = (HERE / "static" / "dashboard.js").read_text(encoding="utf-8")
    style = (HERE / "static" / "dashboard.css").read_text(encoding="utf-8")
    credentials = dashboard.credentials

    def language(request: Request) -> Lang:
        for wanted in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
            if wanted == "ko":
                return "ko"
            if wanted == "en":
                return "en"
        return dashboard.config.web.lang

    def login_page(request: Request, status: int, error: bool) -> HTMLResponse:
        lang = language(request)
        context = {"t": labels(lang), "lang": lang, "error": error, "style": style}
        return templates.TemplateResponse(request, "login.html", context, status_code=status)

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request) -> Response:
        try:
            guard.authenticated(request)
        except HTTPException:
            return login_page(request, 401, error=False)
        lang = language(request)
        context = {
            "t": labels(lang),
            "lang": lang,
            "labels_json": json.dumps(labels(lang), ensure_ascii=False),
            "csrf": credentials.csrf,
            "script": script,
            "style": style,
        }
        response = templates.TemplateResponse(request, "dashboard.html", context)
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", httponly=True)
        return response

    @app.post("/login")
    def login(request: Request, token: str = Form("")) -> Response:
        guard.same_site(request)
        if not credentials.is_token(token):
            guard.refuse(request, 401, "wrong token" if token else "missing token")
            return login_page(request, 401, error=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, credentials.session, httponly=True, samesite="strict")
        return response

    @app.post("/logout")
    def logout(request: Request) -> Response:
        guard.may_change(request)
        response = JSONResponse({"logged_out": True})
        response.delete_cookie(SESSION_COOKIE)
        return response


def _numbers(content: dict[str, Any]) -> JSONResponse:
    """``content`` as JSON with a parameter's Decimal as a number: a route's own serialiser (pydantic's)
    writes it as text, which the page showed as ``"5" -> "4.5"``. For display only; the store keeps the
    exact values."""
    return JSONResponse(jsonable_encoder(content))


def malformed_line(problem: Mapping[str, Any]) -> str:
    """A request body's first problem in one line: the field, the value sent and what was expected, in the
    words a config file's problem gets (``{"key": 5}`` read ``key: Input should be a valid string``)."""
    if problem["type"] == "json_invalid":  # located by a character's position, which names no field
        reason = (problem.get("ctx") or {}).get("error", "")
        return f"body: not JSON ({reason}), expected a JSON object"
    where = ".".join(str(part) for part in problem["loc"] if part != "body") or "body"
    expected = expected_text(cast(ErrorDetails, problem))
    if problem["type"] == "missing":
        return f"{where}: {expected}"
    return f"{where} = {json.dumps(problem.get('input'), ensure_ascii=False, default=str)}: {expected}"


def report_day(text: str) -> date:
    """The day ``/report/DAY`` asks for. Text that is not a date is a bad request (400), not a missing
    report: no day's report will ever be found under it."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"report {text!r}: expected a date as YYYY-MM-DD") from None


def missing_report(store: StateStore, folder: Path, day: date) -> str:
    """Why ``day`` has no report to show, in one line. A closed day whose file is not in the report folder
    (a report that could not be written at the close, a file removed) and a day this store never closed
    need different remedies, so they are told apart; each names the days that do have a report (the
    newest five), as ``maemae report`` names the closed days."""
    newest = report_days(folder)[:5]
    have = f"days with a report: {', '.join(reversed(newest)) or 'none'}"
    if any(result.day == day for result in store.daily_results()):
        return (
            f"report {day}: the day closed but {folder / f'{day}.html'} does not exist: "
            f"`maemae report --config F {day}` writes it ({have})"
        )
    return f"report {day}: the state database has no closed day {day} ({have})"


def _add_api(app: FastAPI, dashboard: Dashboard, guard: Guard) -> None:
    """The JSON routes; the token checks run as dependencies, so before the body is even parsed."""
    store = dashboard.store
    reader = Depends(guard.authenticated)
    changer = Depends(guard.may_change)

    @app.get("/api/view")
    def view(lang: Lang | None = None, _: str = reader) -> JSONResponse:
        """What the page shows; with ``lang=ko`` also ``korean``: the Korean words of its stored texts."""
        day = instance_day(store, WallClock().now().date())
        read = dashboard_view(store, day, dashboard.config, dashboard.names)
        shown = read.as_dict()
        if lang == "ko":
            shown["korean"] = korean_texts(read.texts())
        shown["process"] = asdict(dashboard.process.state())
        held = halting_flag_file(dashboard.config.execution.halt_file)  # shown before Resume is pressed
        shown["halt_file"] = str(held) if held is not None else None
        return _numbers(shown)

    @app.get("/report/{day}", response_class=HTMLResponse)
    def report(day: str, _: str = reader) -> Response:
        """A closed day's end-of-day report, as ``maemae report`` wrote it."""
        wanted = report_day(day)
        folder = report_dir(dashboard.config)
        path = folder / f"{wanted.isoformat()}.html"
        if not path.is_file():
            raise HTTPException(404, missing_report(store, folder, wanted))
        return HTMLResponse(path.read_text(encoding="utf-8"))

    @app.post("/api/state")
    def trading_state(body: StateRequest, actor: str = changer) -> dict[str, Any]:
        wanted = TradingState(body.state)
        # Resume and Sells only are refused before anything is saved while the flag file halts: the page must
        # not say "resumed" while the engine stays halted
        check_resumable(dashboard.config.execution.halt_file, wanted)
        state = set_trading_state(store, wanted, body.reason, actor, WallClock().now())
        log.info("dashboard_trading_state", state=state.value, by=actor)
        return {"state": state.value}

    @app.post("/api/params")
    def params(body: ParamRequest, actor: str = changer) -> JSONResponse:
        value = as_cli_text(body.value)
        old, new = change_parameter(store, dashboard.config, body.key, value, actor, WallClock().now())
        log.info("dashboard_param", key=body.key, old=old, new=new, by=actor)
        return _numbers({"key": body.key, "old": old, "new": new})

    @app.post("/api/start")
    def start(actor: str = changer) -> dict[str, Any]:
        pid = dashboard.process.start()
        log.info("dashboard_start", pid=pid, command=dashboard.process.command, by=actor)
        return {"pid": pid}

    @app.post("/api/stop")
    def stop(actor: str = changer) -> dict[str, Any]:
        code = dashboard.process.stop()
        log.info("dashboard_stop", exit_code=code, by=actor)
        return {"exit_code": code}
