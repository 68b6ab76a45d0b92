"""The engine's fixed words in Korean: every member of each enum the Korean report and dashboard page show has
its word, so a member added without one fails here; a code without a word shows as it is, never blank; the
stored notes and alert texts are worded by one set of patterns, for the report and the page alike."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from maemae.alerts.messages import AlertKind
from maemae.domain.enums import OrderType, Side
from maemae.domain.intents import IntentSource
from maemae.domain.order_states import OrderState
from maemae.risk.decision import DenyReason
from maemae.service.dashboard import FEED_KINDS
from maemae.service.korean import KOREAN_WORDS, korean_texts, phrase, word

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.mark.parametrize(
    ("group", "members"),
    [
        ("side", Side),
        ("state", OrderState),
        ("order_type", OrderType),
        ("source", IntentSource),
        ("reason", DenyReason),
        ("kind", AlertKind),
    ],
)
def test_korean_words_when_an_enum_is_shown_then_every_member_has_a_korean_word(
    group: str, members: type[StrEnum]
) -> None:
    missing = [m.value for m in members if not HANGUL.search(KOREAN_WORDS.get(group, {}).get(m.value, ""))]
    assert missing == []
    assert all(HANGUL.search(word(group, m.value, "ko")) for m in members)
    assert all(word(group, m.value, "en") == m.value for m in members)  # English: the code as it is


def test_korean_words_when_the_feed_shows_an_audit_kind_then_it_has_a_korean_word() -> None:
    assert [k for k in FEED_KINDS if not HANGUL.search(KOREAN_WORDS["kind"].get(k, ""))] == []


def test_korean_words_when_a_code_has_no_word_then_it_shows_as_it_is() -> None:
    assert word("source", "minute_breakout_v2", "ko") == "minute_breakout_v2"  # a user strategy's name
    assert word("reason", "a_new_reason", "ko") == "a_new_reason"
    assert phrase("my own reason: 3%", "ko") == "my own reason: 3%"


def test_korean_words_when_an_exit_reason_is_a_fixed_phrase_then_its_words_are_korean() -> None:
    assert phrase("price 69000 <= stop 69100", "ko") == "가격 69000 <= 손절가 69100"
    assert phrase("price 69000 <= 70000 (high 72000)", "ko") == "가격 69000 <= 70000 (고가 72000)"
    assert phrase("price 75000 >= target 74900", "ko") == "가격 75000 >= 목표가 74900"
    # as notes are written now, with thousands separators (the lines above: as older ones were stored)
    assert phrase("price 69,000 <= stop 69,100", "ko") == "가격 69,000 <= 손절가 69,100"
    assert phrase("price 69,000 <= 70,000 (high 72,000)", "ko") == "가격 69,000 <= 70,000 (고가 72,000)"
    assert phrase("price 75,000 >= target 74,900", "ko") == "가격 75,000 >= 목표가 74,900"
    assert phrase("time-cut after 3 sessions", "ko") == "3거래일 보유 후 타임컷"
    assert phrase("portfolio stop", "ko") == "포트폴리오 손실 한도"
    assert phrase("portfolio stop", "en") == "portfolio stop"


@pytest.mark.parametrize(
    ("stored", "korean"),
    [
        ("broker order 0000123456", "증권사 주문번호 0000123456"),
        ("fill 20251203-000007: 19 @ 78,000", "체결 20251203-000007: 19 @ 78,000"),
        ("fill 20251203-000007: 1,200 @ 7800", "체결 20251203-000007: 1,200 @ 7800"),
        ("not sent: connection refused", "전송 안 됨: connection refused"),
        ("re-price 69,000 -> 69,100", "정정 69,000 -> 69,100"),
        ("re-price 69000 -> 69100", "정정 69000 -> 69100"),  # as an older maemae stored it
        ("unfilled timeout (broker: 주문취소 완료)", "미체결 시간 초과 (증권사: 주문취소 완료)"),
        (
            "cooldown: sold at 10:31:00; no re-buy before 2025-12-02 11:01:00",
            "재매수 대기: sold at 10:31:00; no re-buy before 2025-12-02 11:01:00",
        ),
        ("trading halted", "매매 중단"),
        ("trading reducing", "매도만 허용"),
        ("by operator", "운영자"),
        (
            "by file /srv/maemae/HALT; 2 open order(s) cancelled",
            "플래그 파일 /srv/maemae/HALT; 미체결 주문 2건 취소",
        ),
        ("buy 10 005930 @ 69,000", "매수 10 005930 @ 69,000"),
        ("stop loss sell 10 005930", "손절 매도 10 005930"),
        ("trailing stop sell 3 000660", "트레일링 스탑 매도 3 000660"),
        ("order 7: 3/10 filled", "주문 7: 3/10 체결"),
        (
            "order 7: 10/10 filled; price 69,000 <= stop 69,100",
            "주문 7: 10/10 체결; 가격 69,000 <= 손절가 69,100",
        ),
        ("2025-12-03 closed", "2025-12-03 장 마감"),
        (
            "orders 12, fills 9; equity 100,123,456 won (-1,234 won today)",
            "주문 12, 체결 9; 평가금 100,123,456원 (오늘 -1,234원)",
        ),
        ("3 strategy error(s); see the log", "전략 오류 3건; 로그를 확인하세요"),
        # an audit record's line in the dashboard's feed (service.audit_text)
        (
            "active -> halted by operator; 2 open order(s) cancelled",
            "정상 -> 중단 (운영자); 미체결 주문 2건 취소",
        ),
        ("halted -> reducing by file /srv/HALT", "중단 -> 매도만 허용 (플래그 파일 /srv/HALT)"),
        ("asked by dashboard@127.0.0.1: news", "dashboard@127.0.0.1의 요청: news"),
        ('5 -> "3.5" by dashboard@127.0.0.1', '5 -> "3.5" (dashboard@127.0.0.1)'),
        ('"3.5" -> 5 by cli (back to the config file\'s)', '"3.5" -> 5 (cli) (설정 파일 값으로 되돌림)'),
        (
            "recovery: 1,200 orders restored, 1 found at the broker, 0 never sent, 1 fill recovered, "
            "3 closed, 1 reconciliation difference; the broker cannot list the orders of 2025-12-02: their "
            "orders were expired unchecked",
            "복구: 주문 1,200건 복원, 증권사에서 1건 확인, 0건 미전송, 체결 1건 회수, 3건 종료, "
            "잔고 대사 차이 1건; 증권사가 2025-12-02의 주문을 조회할 수 없어 그 주문은 확인 없이 만료됨",
        ),
        (
            "recovery: 1 order restored, 0 found at the venue, 0 never sent, 0 fills recovered, 0 closed, "
            "0 reconciliation differences",
            "복구: 주문 1건 복원, 거래소에서 0건 확인, 0건 미전송, 체결 0건 회수, 0건 종료, "
            "잔고 대사 차이 0건",
        ),
    ],
)
def test_korean_words_when_a_stored_note_or_alert_text_has_a_pattern_then_its_words_are_korean(
    stored: str, korean: str
) -> None:
    assert phrase(stored, "ko") == korean
    assert phrase(stored, "en") == stored


@pytest.mark.parametrize(
    "stored",
    [
        "my_reason: 3%",  # a code the gate has no word for: the whole text as it is
        "trading paused",  # a state with no word
        "a broker's own message",
        "",
    ],
)
def test_korean_words_when_a_text_matches_no_known_words_then_it_shows_as_it_is(stored: str) -> None:
    assert phrase(stored, "ko") == stored


def test_korean_texts_when_the_page_asks_then_only_the_worded_texts_are_sent() -> None:
    texts = ["price 69,000 <= stop 69,100", "a broker's own message", "kill switch", ""]
    assert korean_texts(texts) == {
        "price 69,000 <= stop 69,100": "가격 69,000 <= 손절가 69,100",
        "kill switch": "킬 스위치",
    }
