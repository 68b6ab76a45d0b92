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


@pytest.mark.parametrize(
    ("stored", "korean"),
    [  # each detail the risk gate writes after its reason code (risk.gate, risk.rules), as it writes it
        ("max_quantity: 1,200 shares > 1,000", "최대 주문 수량: 1,200주 > 1,000주"),
        ("max_amount: 10,100,000 won > 10,000,000", "최대 주문 금액: 10,100,000원 > 10,000,000원"),
        (
            "max_daily_amount: 994,189,312 won committed today (filled or working) + 10,100,000 > "
            "1,000,000,000",
            "일일 최대 주문 금액: 오늘 체결·미체결 994,189,312원 + 10,100,000원 > 1,000,000,000원",
        ),
        (  # as the gate wrote it before it took back unfilled orders: stored notes keep it
            "max_daily_amount: 994,189,312 won sent today + 10,100,000 > 1,000,000,000",
            "일일 최대 주문 금액: 오늘 보낸 994,189,312원 + 10,100,000원 > 1,000,000,000원",
        ),
        ("insufficient_cash: 52,300 won orderable", "주문 가능 현금 부족: 주문 가능 52,300원"),
        (
            "zero_quantity: target amount buys no share at 1,250,000",
            "주문 수량 0: 목표 금액으로는 1,250,000원에 1주도 살 수 없음",
        ),
        ("not_owned: maemae owns no 005930", "보유하지 않은 종목: maemae가 보유한 005930 없음"),
        ("no_price: no price to size the order with", "가격 없음: 주문 수량을 정할 가격 없음"),
        ("kill_switch: the kill switch is on: no new orders", "킬 스위치: 킬 스위치 켜짐: 새 주문 없음"),
        ("reducing: only orders that reduce positions are allowed", "매도만 허용: 보유를 줄이는 주문만 허용"),
        ("quantity_not_positive: quantity -5: must be positive", "수량이 0 이하: 수량 -5: 1 이상이어야 함"),
        (
            "halted_portfolio_stop: portfolio stop tripped on 2025-12-03: no new entries",
            "포트폴리오 손실 한도 (신규 매수 중단): 2025-12-03 포트폴리오 손실 한도 도달: 신규 매수 없음",
        ),
        ("one_trade_a_day: 005930 was already bought today", "하루 1회 매매: 005930 오늘 이미 매수함"),
        ("daily_cap_stock: 4 trades in 005930 today", "종목 일일 매매 한도: 오늘 005930 매매 4건"),
        ("daily_cap_account: 20 trades in the account today", "계좌 일일 매매 한도: 오늘 계좌 매매 20건"),
        (
            "reentry_too_weak: price 70,100 not 1.5% above 70,000",
            "재진입 신호 약함: 가격 70,100: 최근 고가 70,000보다 1.5% 이상 높지 않음",
        ),
        (
            "reentry_too_weak: volume 12,000 below 2 x 10,000",
            "재진입 신호 약함: 거래량 12,000 < 평균 10,000 x 2",
        ),
        (
            "reentry_too_weak: price 70,100 not 3% above exit 69,000",
            "재진입 신호 약함: 가격 70,100: 청산가 69,000보다 3% 이상 높지 않음",
        ),
        (
            "rebuy_too_low: price 72,000 not 2.0% above the mark 71,000",
            "재매수 가격 미달 (부분 익절 후): 가격 72,000: 부분 익절가 71,000보다 2.0% 이상 높지 않음",
        ),
        ("max_positions: 10 positions open (max 10)", "최대 보유 종목 수: 보유 종목 10개 (최대 10개)"),
        ("order_rate: 30 orders in the last minute", "주문 속도 제한: 최근 1분간 주문 30건"),
        (
            "not_on_tick: limit 70,050 is not on the tick grid",
            "호가단위 아님: 지정가 70,050: 호가단위가 아님",
        ),
        (
            "price_outside_limits: limit 95,000 outside 49,000..91,000",
            "가격제한폭 밖: 지정가 95,000: 가격제한폭 49,000..91,000 밖",
        ),
        (
            "strategy_change: 005930 was bought by sma_daily; policy keep",
            "다른 전략의 보유 종목: 005930: sma_daily 전략이 매수한 종목; 정책 keep",
        ),
        ("cooldown: my own words", "재매수 대기: my own words"),  # a detail not the gate's: as it is
    ],
)
def test_korean_words_when_a_denial_is_shown_then_its_detail_is_worded_too(stored: str, korean: str) -> None:
    """The Korean page showed the gate's English detail after the Korean reason word."""
    assert phrase(stored, "ko") == korean
    assert phrase(stored, "en") == stored


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
    assert phrase("time-cut on 2025-12-08", "ko") == "2025-12-08 지정일 타임컷"
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
            "재매수 대기: 10:31:00 매도; 2025-12-02 11:01:00까지 재매수 금지",
        ),
        ("trading halted", "매매 중단"),
        ("trading reducing", "매도만 허용"),
        ("by operator", "운영자"),
        (
            "by operator alice: live test; 1 open order(s) cancelled",
            "운영자 alice: live test; 미체결 주문 1건 취소",
        ),
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
