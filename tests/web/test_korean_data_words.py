"""Over HTTP: the Korean page carries the Korean words for the engine's codes as stored (order sides, states,
types, alert kinds, the operator's trading states), which dashboard.js shows in place of the codes; the
English page carries none of them (it shows the codes as they are) and the API keeps the codes. The stored
notes and alert texts come worded with the view when the Korean page asks for them."""

from __future__ import annotations

from datetime import datetime

import httpx

from maemae.domain.clock_time import KST
from maemae.ports.state import AuditEntry, StateChange
from tests.web.conftest import Served
from tests.web.test_state_words import _labels


def test_pages_when_served_then_the_korean_page_has_the_words_for_the_engine_codes_and_english_none(
    served: Served,
) -> None:
    with httpx.Client(base_url=served.url) as client:
        assert client.post("/login", data={"token": served.token}).status_code == 303
        korean = _labels(client.get("/?lang=ko").text)
        english = _labels(client.get("/?lang=en").text)
        script = client.get("/?lang=ko").text
    assert (korean["side.buy"], korean["side.sell"]) == ("매수", "매도")
    assert (korean["state.filled"], korean["state.partially_filled"]) == ("체결", "부분체결")
    assert (korean["state.cancelled"], korean["state.expired"], korean["state.accepted"]) == (
        "취소",
        "만료",
        "접수",
    )
    assert (korean["order_type.market"], korean["order_type.limit"]) == ("시장가", "지정가")
    assert korean["kind.fill"] == "체결"
    assert korean["feed.trading_halted"] == "매매 중단"
    assert not [key for key in english if "." in key]  # the English page: the data as it is
    assert 'code("side", o.side)' in script
    assert 'code("state", o.state)' in script


def test_view_when_the_korean_page_asks_then_the_stored_texts_come_worded_and_a_bad_lang_is_one_line(
    served: Served,
) -> None:
    now = datetime.now(KST)
    alert = {"title": "trading halted", "text": "by operator; 2 open order(s) cancelled"}
    served.dashboard.store.commit(StateChange(audit=[AuditEntry(now, "alert", "halt", alert)]))
    with httpx.Client(base_url=served.url) as client:
        assert client.post("/login", data={"token": served.token}).status_code == 303
        korean = client.get("/api/view", params={"lang": "ko"})
        english = client.get("/api/view", params={"lang": "en"})
        plain = client.get("/api/view")
        wrong = client.get("/api/view", params={"lang": "jp"})
    assert korean.status_code == 200
    assert korean.json()["korean"] == {
        "trading halted": "매매 중단",
        "by operator; 2 open order(s) cancelled": "운영자; 미체결 주문 2건 취소",
    }
    feed = korean.json()["feed"][0]
    assert (feed["title"], feed["text"]) == (alert["title"], alert["text"])  # the data itself as stored
    assert "korean" not in english.json()
    assert "korean" not in plain.json()
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert "\n" not in error
    assert "lang" in error
    assert "jp" in error
