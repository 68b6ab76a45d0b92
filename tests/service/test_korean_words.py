"""The engine's fixed words in Korean: every member of each enum the Korean report and dashboard page show has
its word, so a member added without one fails here; a code without a word shows as it is, never blank."""

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
from maemae.service.report import KOREAN_WORDS, phrase, word

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
