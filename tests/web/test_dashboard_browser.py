"""The dashboard in a real browser (Playwright driving Debian's Chromium) against a paper run it starts:
log in with the token, start the replayed day, see a fill appear, halt, see the state change and the engine
obey it, stop. Screenshots go to var/test-artifacts/dashboard/ (CI keeps them)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from maemae.domain.clock_time import KST
from maemae.domain.order_states import OrderState
from maemae.engine.operator import requested_state
from maemae.ports.state import AuditEntry, StateChange
from maemae.risk.state import TradingState
from tests.web.conftest import DAY, Served

CHROMIUM = Path(os.environ.get("MAEMAE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "dashboard"
# as the machine's notes advise: no background connections (this machine's network is closed)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/ensure-chromium (make test does) or set MAEMAE_CHROMIUM"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    opened = context.new_page()
    opened.on("dialog", lambda dialog: dialog.accept())  # the buttons' confirmations
    yield opened
    context.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _log_in(page: Page, served: Served) -> None:
    response = page.goto(served.url + "/")
    assert response is not None
    assert response.status == 401
    expect(page.locator("#token")).to_be_visible()
    page.fill("#token", "not the token")
    page.click("#login")
    expect(page.locator("#login-error")).to_have_text("Wrong token.")
    page.fill("#token", served.token)
    page.click("#login")
    expect(page.locator("#status-trading_state")).to_have_text("active")


def test_dashboard_when_paper_day_runs_then_fill_appears_and_halt_stops_new_orders(
    page: Page, served: Served
) -> None:
    _log_in(page, served)
    _shot(page, "01-logged-in")
    page.click("#start")
    expect(page.locator("#status-process")).to_contain_text("running (pid", timeout=20_000)
    fill = page.locator("#feed tr.kind-fill").first
    expect(fill).to_be_visible(timeout=60_000)
    expect(fill).to_contain_text("filled")
    expect(page.locator("#positions tbody tr[data-code]").first).to_be_visible(timeout=20_000)
    expect(page.locator("#orders tr.state-filled, #orders tr.state-partially_filled").first).to_be_visible()
    assert page.locator("#equity polyline").count() == 1  # the minute equity curve is drawn
    _shot(page, "02-fill")

    page.click("#halt")
    expect(page.locator("#status-trading_state")).to_have_text(re.compile(r"^halted \(operator .+\)$"))  # who
    expect(page.locator("#status-trading_state")).to_have_class("state-halted")
    assert requested_state(served.dashboard.store) is TradingState.HALTED
    applied = page.locator("#feed tr.kind-halt", has_text="trading halted").first
    expect(applied).to_be_visible(timeout=30_000)  # the running engine's own alert: it obeyed
    _shot(page, "03-halted")
    halted_at = _engine_halt_time(served)

    page.click("#stop")
    expect(page.locator("#status-process")).to_contain_text("not running", timeout=90_000)
    _shot(page, "04-stopped")
    orders = served.dashboard.store.load(date.fromisoformat(DAY)).orders
    assert any(o.filled_quantity for o in orders if o.created_at < halted_at)
    after = [o for o in orders if o.created_at > halted_at]
    # the kill switch held: every order the strategies wanted after the engine applied the halt was denied
    assert all(o.state is OrderState.DENIED and "kill_switch" in o.history[-1].note for o in after)

    page.goto(served.url + "/?lang=ko")
    expect(page.locator("#halt")).to_have_text("매매 중단")
    expect(page.locator("#status-trading_state")).to_have_text(re.compile(r"^중단 \(운영자 .+\)$"))
    # the engine's data in Korean words: a filled order's side and state, the halt alert
    filled = page.locator("#orders tr.state-filled").first
    expect(filled.locator("td").nth(7)).to_have_text("체결")
    expect(filled.locator("td").nth(3)).to_have_text(re.compile(r"^(매수|매도)$"))
    expect(page.locator("#feed tr.kind-halt", has_text="매매 중단").first).to_be_visible()
    _shot(page, "05-korean")


def _engine_halt_time(served: Served) -> datetime:
    """When the running engine applied the halt (its audit record, written by the engine, not the page)."""
    for entry in reversed(served.dashboard.store.audit_entries()):
        if entry.kind == "operator" and entry.data.get("by") == "operator" and entry.subject == "halted":
            return entry.at
    raise AssertionError("the engine never applied the halt")


def test_dashboard_when_parameter_changed_in_the_page_then_validated_and_shown(
    page: Page, served: Served
) -> None:
    _log_in(page, served)
    page.fill("#param-key", "risk.stop_loss.pct")
    page.fill("#param-value", "-3")
    page.click("#param-change")
    expect(page.locator("#message")).to_have_class("error")
    expect(page.locator("#message")).to_contain_text("risk.stop_loss.pct")
    page.fill("#param-value", "4.5")
    page.click("#param-change")
    expect(page.locator("#message")).to_have_text(re.compile(r"risk\.stop_loss\.pct: .* -> 4\.5"))
    row = page.locator("#parameters tr", has_text="risk.stop_loss.pct")
    expect(row).to_contain_text("4.5")
    _shot(page, "06-parameter")


def test_dashboard_when_a_paper_day_runs_to_the_close_then_the_whole_day_and_its_report_show(
    page: Page, served_fast: Served
) -> None:
    _log_in(page, served_fast)
    page.click("#start")
    closed = page.locator("#feed tr.kind-report", has_text=f"{DAY} closed").first
    expect(closed).to_be_visible(timeout=120_000)  # the end-of-day alert, kept in the audit log
    expect(page.locator("#status-process")).to_contain_text("not running (exit code 0)", timeout=30_000)
    expect(page.locator("#feed tr.kind-fill").first).to_be_visible()
    assert page.locator("#orders tbody tr").count() >= 10
    assert page.locator("#equity polyline").count() == 1
    # the positions held at the close, valued at the closes: price, value and unrealised P&L, and when
    headers = _headers(page, "positions")
    assert headers[6:] == ["Last price", "Market value", "Unrealised", "Realised", "Priced at"]
    held = [
        [cell.inner_text() for cell in row.locator("td").all()]
        for row in page.locator("#positions tbody tr[data-code]").all()
    ]
    owned = [cells for cells in held if cells[2] != "0"]
    assert owned, "the sample day ends with a position"
    for cells in owned:
        assert "-" not in (cells[6], cells[7], cells[8])
        assert re.fullmatch(r"15:\d\d:\d\d", cells[10])
    link = page.locator("#reports a", has_text=DAY)
    expect(link).to_be_visible()
    _shot(page, "07-day-closed")
    report = page.goto(served_fast.url + f"/report/{DAY}")
    assert report is not None
    assert report.status == 200
    expect(page.locator("body")).to_contain_text(DAY)
    _shot(page, "08-report")


def test_dashboard_when_resume_pressed_while_the_halt_flag_file_exists_then_the_page_says_delete_it(
    page: Page, served: Served
) -> None:
    """The page used to say "Resume: Done" while the flag file kept the engine halted. Now the status names
    the file before Resume is pressed, and pressing it shows the refusal in the page's language."""
    flag = served.config.execution.halt_file
    _log_in(page, served)
    page.click("#halt")
    expect(page.locator("#status-trading_state")).to_have_class("state-halted")
    flag.touch()
    expect(page.locator("#status-halt_file")).to_have_text(
        f"{flag} exists: trading stays halted until it is deleted, whatever Resume or Sells only says"
    )

    page.click("#resume")
    message = page.locator("#message")
    expect(message).to_have_class("error")
    expect(message).to_be_visible()
    expect(message).to_have_text(
        f"Resume: refused, nothing changed: the halt flag file {flag} still halts trading. "
        "Delete it first, then press the button again."
    )
    page.click("#reducing")
    expect(message).to_have_text(
        f"Sells only: refused, nothing changed: the halt flag file {flag} still halts trading. "
        "Delete it first, then press the button again."
    )
    assert requested_state(served.dashboard.store) is TradingState.HALTED
    _shot(page, "09-resume-refused")

    page.goto(served.url + "/?lang=ko")
    expect(page.locator("#status-halt_file")).to_contain_text(f"{flag} 파일이 있어")
    page.click("#resume")
    expect(message).to_contain_text(f"매매 재개: 거부했습니다(바뀐 것 없음): 중단 플래그 파일 {flag}")
    _shot(page, "10-resume-refused-korean")

    flag.unlink()
    expect(page.locator("#status-halt_file")).to_have_count(0)
    page.click("#resume")
    expect(message).to_have_text("매매 재개: 완료")
    expect(page.locator("#status-trading_state")).to_have_text("정상")
    assert requested_state(served.dashboard.store) is TradingState.ACTIVE


def test_dashboard_when_the_halt_flag_file_halts_then_who_halted_is_said_in_the_page_language(
    page: Page, served: Served
) -> None:
    """The state said who halted in English on the Korean page too: "중단 (file /path/HALT)"."""
    flag = served.config.execution.halt_file
    state = page.locator("#status-trading_state")
    _log_in(page, served)
    flag.touch()
    expect(state).to_have_text(f"halted (file {flag})")  # the English page as before
    page.goto(served.url + "/?lang=ko")
    expect(state).to_have_text(f"중단 (플래그 파일 {flag})")  # the path as it is, the words around it Korean
    _shot(page, "11-halted-by-file-korean")

    flag.unlink()
    expect(state).to_have_text("정상")
    bearer = {"Authorization": f"Bearer {served.token}"}
    asked = httpx.post(
        served.url + "/api/state", json={"state": "reducing", "reason": "뉴스"}, headers=bearer
    )
    assert asked.status_code == 200
    expect(state).to_have_text("매도만 허용 (운영자 dashboard@127.0.0.1: 뉴스)")
    page.goto(served.url + "/?lang=en")
    expect(state).to_have_text("Sells only (operator dashboard@127.0.0.1: 뉴스)")


def _headers(page: Page, table: str) -> list[str]:
    return page.locator(f"#{table} thead th").all_text_contents()


def test_dashboard_when_the_list_names_the_stocks_then_each_table_shows_the_name_beside_the_code(
    page: Page, served_named: Served
) -> None:
    """Positions and orders by code and name (tests/support/named_book.py): the hostile name as text, the
    code the list lacks with a blank name; the headers in the page's language."""
    _log_in(page, served_named)
    samsung = page.locator("#positions tr[data-code='005930'] td")
    expect(samsung.nth(1)).to_have_text("삼성전자")
    hostile = page.locator("#positions tr[data-code='000660'] td")
    expect(hostile.nth(1)).to_have_text("<b>하이닉스</b> & [/b]")
    assert page.locator("#positions b, #orders b").count() == 0  # shown as text, never as markup
    assert _headers(page, "positions")[:3] == ["Code", "Name", "Owned by maemae"]
    assert _headers(page, "orders")[:4] == ["Time", "Code", "Name", "Side"]
    orders = page.locator("#orders tbody tr")
    expect(orders).to_have_count(3)
    assert [orders.nth(i).locator("td").nth(2).text_content() for i in range(3)] == [
        "",  # 0088M0, newest first: not in the list
        "<b>하이닉스</b> & [/b]",
        "삼성전자",
    ]
    expect(orders.nth(2).locator("td").nth(3)).to_have_text("buy")
    _shot(page, "12-names")

    page.goto(served_named.url + "/?lang=ko")
    expect(samsung.nth(1)).to_have_text("삼성전자")
    assert _headers(page, "positions")[:2] == ["종목코드", "종목명"]
    assert _headers(page, "orders")[1:4] == ["종목코드", "종목명", "구분"]
    expect(orders.nth(2).locator("td").nth(3)).to_have_text("매수")
    _shot(page, "13-names-korean")


def test_dashboard_when_an_alert_is_stored_in_english_then_the_korean_page_shows_the_servers_words(
    page: Page, served: Served
) -> None:
    """The page words no stored text itself: it shows what the server sent with the view (one set of
    patterns, maemae.service.korean, for the page and the report), prices with or without separators."""
    now = datetime.now(KST)
    clock = re.compile(r"^\d\d:\d\d:\d\d$")
    alerts = [
        AuditEntry(
            now, "alert", "stop", {"title": "stop loss sell 10 005930", "text": "price 69,000 <= stop 69,100"}
        ),
        AuditEntry(
            now,
            "alert",
            "stop",
            {"title": "take profit sell 4 000660", "text": "price 75000 >= target 74900"},
        ),
    ]
    served.dashboard.store.commit(StateChange(audit=alerts))
    _log_in(page, served)
    page.goto(served.url + "/?lang=ko")
    feed = page.locator("#feed tr.kind-stop")
    expect(feed.nth(0).locator("td")).to_have_text(
        [clock, "청산 규칙", "익절 매도 4 000660", "가격 75000 >= 목표가 74900"]
    )
    expect(feed.nth(1).locator("td")).to_have_text(
        [clock, "청산 규칙", "손절 매도 10 005930", "가격 69,000 <= 손절가 69,100"]
    )
    page.goto(served.url + "/?lang=en")  # the English page: the texts as stored
    expect(page.locator("#feed tr.kind-stop").nth(1).locator("td").nth(3)).to_have_text(
        "price 69,000 <= stop 69,100"
    )
