"""Over HTTP: the Korean page carries the Korean words for the engine's data as stored (order sides, states,
types, sources, denial reasons, alert kinds and fixed alert texts), which dashboard.js shows in place of the
codes; the English page carries none of them (it shows the codes as they are) and the API keeps the codes."""

from __future__ import annotations

import httpx

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
    assert korean["source.stop_loss"] == "손절"
    assert korean["source.trailing_stop"] == "트레일링 스탑"
    assert korean["source.time_cut"] == "타임컷"
    assert korean["source.safe_asset"] == "안전자산"
    assert korean["reason.cooldown"] == "재매수 대기"
    assert korean["reason.kill_switch"] == "킬 스위치"
    assert korean["kind.fill"] == "체결"
    assert korean["feed.trading_halted"] == "매매 중단"
    assert korean["phrase.kill switch"] == "킬 스위치"
    assert not [key for key in english if "." in key]  # the English page: the data as it is
    assert 'code("side", o.side)' in script
    assert 'code("state", o.state)' in script
