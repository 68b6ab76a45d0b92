"""The dashboard's token, session, CSRF and cross-site checks over real HTTP, and the actions they guard."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from maemae.cli import main
from maemae.engine.operator import requested_state
from maemae.errors import ConfigError
from maemae.risk.state import TradingState
from maemae.service.report import report_dir
from maemae.web.auth import load_or_create_token
from tests.engine.test_run import _config as run_config
from tests.user_errors import one_error_line, refused
from tests.web.conftest import Served, write_config
from tests.web.conftest import _free_port as free_port


def _bearer(served: Served) -> dict[str, str]:
    return {"Authorization": f"Bearer {served.token}"}


@contextmanager
def _logged_in(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url) as client:
        assert client.post("/login", data={"token": served.token}).status_code == 303
        yield client


def _csrf(client: httpx.Client) -> str:
    page = client.get("/").text
    return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def test_token_file_when_first_start_then_created_owner_only_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "web-token"
    token = load_or_create_token(path)
    assert len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token(path) == token
    path.chmod(0o644)
    with pytest.raises(
        ConfigError, match=r"web.token_file .*mode 644 lets other users read it: expected 600"
    ):
        load_or_create_token(path)
    path.chmod(0o600)
    path.write_text("short\n")
    with pytest.raises(ConfigError, match="token of 5 characters: expected at least 16"):
        load_or_create_token(path)


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_dashboard_when_the_token_file_cannot_be_made_or_read_then_one_line(
    market_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """A token file under a file ended `maemae dashboard` in a FileExistsError traceback (exit 1); a folder
    there was judged by its mode, as if it were the token (and read, with mode 700: IsADirectoryError)."""
    (tmp_path / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    token = tmp_path / ("afile/web-token" if where == "under a file" else "folder")
    web = f'[logging]\ndir = "{tmp_path}/log"\nconsole = false\n\n[web]\ntoken_file = "{token}"'
    config = run_config(market_root, tmp_path, web)
    assert main(["db", "migrate", "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["dashboard", "--config", str(config), "--port", str(free_port())]) == 2
    line = one_error_line(capsys.readouterr().err)
    why = f"cannot create it: {tmp_path}/afile is a file; expected a folder"
    if where == "a folder":
        why = "is a folder; expected the token file"
    assert line == f"error: web.token_file {token}: {why}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/api/view"),
        ("GET", "/report/2025-12-03"),
        ("POST", "/api/state"),
        ("POST", "/api/params"),
        ("POST", "/api/start"),
    ],
)
def test_every_route_when_token_missing_then_401_and_logged(served: Served, method: str, path: str) -> None:
    response = httpx.request(method, served.url + path, json={"state": "halted"})
    assert response.status_code == 401
    assert requested_state(served.dashboard.store) is TradingState.ACTIVE
    refused = [json.loads(line) for line in served.log_lines().splitlines()]
    assert {"event": "dashboard_refused", "path": path, "reason": "missing token", "status": 401}.items() <= (
        refused[-1].items()
    )


def test_every_route_when_token_wrong_then_401_and_logged(served: Served) -> None:
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    assert httpx.get(served.url + "/api/view", headers=wrong).status_code == 401
    forged = httpx.get(served.url + "/api/view", cookies={"maemae_session": served.token})
    assert forged.status_code == 401  # the cookie holds a value derived from the token, not the token
    assert served.log_lines().count('"reason": "wrong token"') == 2
    page = httpx.get(served.url + "/", headers=wrong)
    assert page.status_code == 401
    assert 'name="token"' in page.text  # the login form


def test_login_when_wrong_token_then_401_with_message(served: Served) -> None:
    response = httpx.post(served.url + "/login", data={"token": "guess"})
    assert response.status_code == 401
    assert "Wrong token." in response.text
    assert "maemae_session" not in response.headers.get("set-cookie", "")


def test_login_when_right_token_then_session_cookie_httponly_strict(served: Served) -> None:
    response = httpx.post(served.url + "/login", data={"token": served.token})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert served.token not in cookie
    with _logged_in(served) as client:
        view = client.get("/api/view")
        assert view.status_code == 200
        assert view.json()["status"]["trading_state"] == "active"
        assert client.get("/").headers["x-frame-options"] == "DENY"


def test_state_change_when_cookie_without_csrf_token_then_403_and_nothing_changes(served: Served) -> None:
    with _logged_in(served) as client:
        response = client.post("/api/state", json={"state": "halted"})
        assert response.status_code == 403
        wrong = client.post("/api/state", json={"state": "halted"}, headers={"X-CSRF-Token": "0" * 64})
        assert wrong.status_code == 403
    assert requested_state(served.dashboard.store) is TradingState.ACTIVE
    assert '"reason": "missing or wrong CSRF token"' in served.log_lines()


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}],
    ids=["origin", "sec-fetch-site"],
)
def test_state_change_when_cross_site_then_403_even_with_csrf_token(
    served: Served, headers: dict[str, str]
) -> None:
    with _logged_in(served) as client:
        csrf = _csrf(client)
        response = client.post(
            "/api/state", json={"state": "halted"}, headers={"X-CSRF-Token": csrf, **headers}
        )
        assert response.status_code == 403
    assert requested_state(served.dashboard.store) is TradingState.ACTIVE
    assert '"reason": "cross-site request"' in served.log_lines()
    login = httpx.post(served.url + "/login", data={"token": served.token}, headers=headers)
    assert login.status_code == 403  # a login posted from another site is refused too


def test_halt_and_resume_when_same_origin_with_csrf_then_saved_and_audited(served: Served) -> None:
    with _logged_in(served) as client:
        csrf = _csrf(client)
        origin = {"Origin": served.url, "X-CSRF-Token": csrf}
        halted = client.post("/api/state", json={"state": "halted", "reason": "test"}, headers=origin)
        assert halted.json() == {"state": "halted"}
        assert requested_state(served.dashboard.store) is TradingState.HALTED
        assert client.get("/api/view").json()["status"]["trading_state"] == "halted"
        client.post("/api/state", json={"state": "active"}, headers=origin)
    assert requested_state(served.dashboard.store) is TradingState.ACTIVE
    operator = [e for e in served.dashboard.store.audit_entries() if e.kind == "operator"]
    assert [(e.subject, e.data["by"]) for e in operator] == [
        ("halted", "dashboard@127.0.0.1"),
        ("active", "dashboard@127.0.0.1"),
    ]


def test_resume_or_sells_only_when_the_halt_flag_file_exists_then_409_naming_it_and_the_halt_stays(
    served: Served,
) -> None:
    """Resume used to answer 200 and save "active" while the flag file kept the engine halted; now it is
    refused as `maemae resume` is, nothing saved, and the view names the file before anyone presses it."""
    flag = served.config.execution.halt_file
    with _logged_in(served) as client:
        origin = {"Origin": served.url, "X-CSRF-Token": _csrf(client)}
        assert client.post("/api/state", json={"state": "halted"}, headers=origin).status_code == 200
        flag.touch()
        assert client.get("/api/view").json()["halt_file"] == str(flag)

        refused = client.post("/api/state", json={"state": "active"}, headers=origin)
        assert refused.status_code == 409
        assert refused.json() == {
            "error": f"refused, nothing saved: the flag file {flag} (execution.halt_file) "
            "still halts trading: delete it to resume",
            "halt_file": str(flag),
        }
        # Sells only loosens the halt too: refused the same way (it used to answer 200 and save "reducing")
        sells_only = client.post("/api/state", json={"state": "reducing"}, headers=origin)
        assert sells_only.status_code == 409
        assert sells_only.json() == {
            "error": f"refused, nothing saved: the flag file {flag} (execution.halt_file) "
            "still halts trading: delete it to allow sells",
            "halt_file": str(flag),
        }
        assert client.post("/api/state", json={"state": "halted"}, headers=origin).status_code == 200
        assert requested_state(served.dashboard.store) is TradingState.HALTED
        operator = [e.subject for e in served.dashboard.store.audit_entries() if e.kind == "operator"]
        assert operator == ["halted", "halted"]  # the refusals saved nothing
        assert served.log_lines().count('"event": "dashboard_state_refused"') == 2

        flag.unlink()
        assert client.get("/api/view").json()["halt_file"] is None
        resumed = client.post("/api/state", json={"state": "active"}, headers=origin)
        assert resumed.json() == {"state": "active"}
    assert requested_state(served.dashboard.store) is TradingState.ACTIVE


def test_bearer_token_when_script_changes_state_then_no_csrf_needed(served: Served) -> None:
    response = httpx.post(served.url + "/api/state", json={"state": "reducing"}, headers=_bearer(served))
    assert response.status_code == 200
    assert requested_state(served.dashboard.store) is TradingState.REDUCING


def test_params_when_invalid_then_400_one_line_and_when_valid_then_in_force(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = _bearer(served)
    bad = httpx.post(
        served.url + "/api/params", json={"key": "risk.stop_loss.pct", "value": "abc"}, headers=headers
    )
    assert bad.status_code == 400
    assert bad.json() == {"error": "params: risk.stop_loss.pct = 'abc': expected a number"}
    unknown = httpx.post(served.url + "/api/params", json={"key": "risk.nope", "value": "1"}, headers=headers)
    assert unknown.json()["error"].startswith("params: unknown key 'risk.nope'")
    good = httpx.post(
        served.url + "/api/params", json={"key": "risk.stop_loss.pct", "value": "4.5"}, headers=headers
    )
    assert good.status_code == 200
    assert good.json()["new"] == 4.5
    view = httpx.get(served.url + "/api/view", headers=headers).json()
    assert view["parameters"]["risk.stop_loss.pct"] in (4.5, "4.5")
    assert main(["params", "get", "--config", str(served.config_file), "risk.stop_loss.pct"]) == 0
    assert capsys.readouterr().out.strip() in ("4.5", '"4.5"')  # the CLI reads the same service


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("risk.stop_loss.pct", -3),  # out of range
        ("risk.stop_loss.pct", True),  # a boolean for a number
        ("risk.nope", 1),  # an unknown key
        ("execution.price_refresh_s", 5),  # read only when a run starts
        ("risk.stop_loss", {"enabled": True, "pct": -1}),  # a table with a bad member
        ("risk.stop_loss.enabled", 1),  # a number for a switch
    ],
)
def test_params_when_value_is_json_not_text_then_refused_with_the_cli_line_and_nothing_saved(
    served: Served, capsys: pytest.CaptureFixture[str], key: str, value: object
) -> None:
    config = str(served.config_file)
    typed = json.dumps(value)
    cli_line = refused(main(["params", "set", "--config", config, "--", key, typed]), capsys)
    response = httpx.post(
        served.url + "/api/params", json={"key": key, "value": value}, headers=_bearer(served)
    )
    assert response.status_code == 400
    assert response.json() == {"error": cli_line.removeprefix("error: ")}
    assert "\n" not in cli_line
    assert main(["params", "get", "--config", config, "risk.stop_loss"]) == 0
    assert json.loads(capsys.readouterr().out) == {"enabled": True, "pct": 5}  # the config file's, unchanged


def test_params_when_value_is_a_json_number_boolean_or_object_then_in_force(served: Served) -> None:
    headers = _bearer(served)

    def change(key: str, value: object) -> httpx.Response:
        return httpx.post(served.url + "/api/params", json={"key": key, "value": value}, headers=headers)

    number = change("risk.stop_loss.pct", 4.5)
    assert number.status_code == 200
    assert number.json() == {"key": "risk.stop_loss.pct", "old": 5, "new": 4.5}
    switch = change("risk.trailing_stop.enabled", True)
    assert switch.json() == {"key": "risk.trailing_stop.enabled", "old": False, "new": True}
    table = change("risk.stop_loss", {"enabled": False, "pct": 4})
    assert table.json()["new"] == {"enabled": False, "pct": 4}
    shown = httpx.get(served.url + "/api/view", headers=headers).json()["parameters"]
    assert shown["risk.stop_loss.enabled"] is False
    assert shown["risk.trailing_stop.enabled"] is True


def test_params_when_a_strategy_param_then_refused_or_in_force_as_by_the_cli(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """The configured strategies' parameters change through the dashboard as through ``params set``."""
    headers = _bearer(served)
    key = "strategies.minute.params.period"
    cli_line = refused(main(["params", "set", "--config", str(served.config_file), key, "1"]), capsys)
    bad = httpx.post(served.url + "/api/params", json={"key": key, "value": 1}, headers=headers)
    assert bad.status_code == 400
    assert bad.json() == {"error": cli_line.removeprefix("error: ")}
    good = httpx.post(served.url + "/api/params", json={"key": key, "value": 9}, headers=headers)
    assert good.json() == {"key": key, "old": 14, "new": 9}
    assert httpx.get(served.url + "/api/view", headers=headers).json()["parameters"][key] == 9


def test_labels_when_lang_chosen_then_korean_or_english(served: Served) -> None:
    with _logged_in(served) as client:
        korean = client.get("/?lang=ko").text
        assert "매매 대시보드" in korean
        assert "매매 중단" in korean
        assert "매매 대시보드" in client.get("/").text  # the choice is remembered
        english = client.get("/?lang=en").text
        assert "maemae dashboard" in english
        assert ">Halt<" in english


def test_start_stop_when_misused_then_one_line_refusals(served: Served) -> None:
    headers = _bearer(served)
    stop = httpx.post(served.url + "/api/stop", headers=headers)
    assert stop.status_code == 400
    assert stop.json() == {"error": "stop: no trading process started from this dashboard is running"}
    assert httpx.post(served.url + "/api/start", headers=headers).status_code == 200
    again = httpx.post(served.url + "/api/start", headers=headers)
    assert again.status_code == 400
    assert re.fullmatch(r"start: a trading process \(pid \d+\) is already running", again.json()["error"])
    stopped = httpx.post(served.url + "/api/stop", headers=headers, timeout=90)
    assert stopped.status_code == 200


def test_cli_dashboard_when_started_then_listens_on_loopback_and_refuses_a_taken_port(
    market_root: Path, tmp_path: Path
) -> None:
    config = write_config(market_root, tmp_path, [])
    assert main(["db", "migrate", "--config", str(config)]) == 0  # the dashboard opens an existing store only
    port = "18765"
    child = subprocess.Popen(
        [sys.executable, "-m", "maemae.cli", "dashboard", "--config", str(config), "--port", port],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/view")
                break
            except httpx.ConnectError:
                assert child.poll() is None, child.stderr.read() if child.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert response.status_code == 401
        assert stat.S_IMODE(os.stat(tmp_path / "web-token").st_mode) == 0o600
        taken = subprocess.run(
            [sys.executable, "-m", "maemae.cli", "dashboard", "--config", str(config), "--port", port],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert taken.returncode == 2
        assert taken.stderr.strip().splitlines() == [
            f"error: --port / web.port = {port}: cannot listen on 127.0.0.1: Address already in use"
        ]
    finally:
        child.terminate()
        child.wait(10)


def test_report_when_not_a_date_then_400_with_the_date_message(served: Served) -> None:
    headers = _bearer(served)
    wrong = httpx.get(served.url + "/report/xyz", headers=headers)
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "report 'xyz': expected a date as YYYY-MM-DD"}
    assert httpx.get(served.url + "/report/..%2Fweb-token", headers=headers).status_code == 404


def test_report_when_the_day_never_closed_then_404_saying_so_and_naming_the_days_with_a_report(
    served_named: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = _bearer(served_named)
    none_yet = httpx.get(served_named.url + "/report/2025-12-04", headers=headers)
    assert none_yet.status_code == 404
    assert none_yet.json() == {
        "error": "report 2025-12-04: the state database has no closed day 2025-12-04 "
        "(days with a report: none)"
    }
    assert main(["report", "--config", str(served_named.config_file), "2025-12-03"]) == 0, capsys.readouterr()
    never = httpx.get(served_named.url + "/report/2025-12-04", headers=headers)
    assert never.status_code == 404
    assert never.json() == {
        "error": "report 2025-12-04: the state database has no closed day 2025-12-04 "
        "(days with a report: 2025-12-03)"
    }
    assert httpx.get(served_named.url + "/report/2025-12-03", headers=headers).status_code == 200


def test_report_when_the_day_closed_but_its_file_is_missing_then_404_naming_the_file_and_the_command(
    served_named: Served,
) -> None:
    missing = httpx.get(served_named.url + "/report/2025-12-03", headers=_bearer(served_named))
    assert missing.status_code == 404
    file = report_dir(served_named.config) / "2025-12-03.html"
    assert missing.json() == {
        "error": f"report 2025-12-03: the day closed but {file} does not exist: "
        "`maemae report --config F 2025-12-03` writes it (days with a report: none)"
    }


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"key": 5, "value": 1}, "key = 5: expected text in quotes"),
        ({"value": 1}, "key: required, but missing"),
        ({"state": "halted"}, "key: required, but missing"),
    ],
)
def test_params_when_the_body_is_malformed_then_one_line_naming_field_value_and_expected(
    served: Served, body: dict[str, object], error: str
) -> None:
    """It read ``key: Input should be a valid string``: pydantic's words, without the value sent."""
    response = httpx.post(served.url + "/api/params", json=body, headers=_bearer(served))
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_params_when_the_body_is_not_json_then_one_line_about_the_body(served: Served) -> None:
    """It read ``0: JSON decode error``: the position of the bad character, as if it were a field."""
    headers = {**_bearer(served), "content-type": "application/json"}
    response = httpx.post(served.url + "/api/params", content=b"notjson", headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": "body: not JSON (Expecting value), expected a JSON object"}


@pytest.mark.parametrize(
    ("method", "path", "token", "status", "error"),
    [
        ("GET", "/api/nothing", True, 404, "Not Found"),
        ("DELETE", "/api/view", True, 405, "Method Not Allowed"),
        ("GET", "/api/view", False, 401, "missing token"),
        ("POST", "/api/start", False, 401, "missing token"),
    ],
    ids=["no-such-path", "wrong-method", "no-token", "no-token-to-change"],
)
def test_api_when_fastapi_refuses_then_the_answer_has_the_error_key_of_every_refusal(
    served: Served, method: str, path: str, token: bool, status: int, error: str
) -> None:
    """They answered ``{"detail": ...}`` while the API's own refusals answer ``{"error": ...}``."""
    response = httpx.request(method, served.url + path, headers=_bearer(served) if token else {})
    assert response.status_code == status
    assert response.json() == {"error": error}
