"""The engine's stored words in Korean: the one place the Korean report and the dashboard's Korean page get
them from.

The engine stores English: enum values (``buy``, ``filled``, ``cooldown``) and fixed texts with numbers in
them (an exit rule's reason, an order's note, an alert's title and text). ``--json``, the API and the database
keep them so; only what a person reads in Korean is worded here. A text no pattern knows (a strategy's or a
person's own words, a broker's message) shows as it is, never blank.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Literal

Lang = Literal["ko", "en"]
# patterns a whole text is matched against, each with its Korean words (None: the words decline the match)
Wordings = tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...]

# The engine's fixed words as it stores them (enum values), in Korean: the Korean report and the dashboard's
# Korean page show these, while the stored data, ``--json`` and the API keep the English codes. A code not
# here (a user strategy's name, a member added later) shows as it is; tests/service/test_korean_words.py
# checks that every member of these enums has its word.
KOREAN_WORDS: dict[str, dict[str, str]] = {
    "side": {"buy": "매수", "sell": "매도"},  # domain.enums.Side
    "state": {  # domain.order_states.OrderState
        "created": "생성",
        "denied": "거부",  # by the risk gate: never sent (the report's "거부된 주문")
        "submitted": "전송",
        "unknown": "응답 없음",
        "accepted": "접수",
        "partially_filled": "부분체결",
        "filled": "체결",
        "pending_cancel": "취소 요청",
        "pending_modify": "정정 요청",
        "cancelled": "취소",
        "rejected": "거부(증권사)",  # by the broker
        "expired": "만료",
    },
    "order_type": {  # domain.enums.OrderType
        "limit": "지정가",
        "market": "시장가",
        "conditional_limit": "조건부지정가",
        "best": "최유리지정가",
        "priority": "최우선지정가",
    },
    "source": {  # domain.intents.IntentSource: who asked for the order
        "strategy": "전략",
        "stop_loss": "손절",
        "trailing_stop": "트레일링 스탑",
        "take_profit": "익절",
        "time_cut": "타임컷",
        "portfolio_stop": "포트폴리오 손실 한도",
        "safe_asset": "안전자산",
        "operator": "운영자",
    },
    "reason": {  # risk.decision.DenyReason: why the risk gate refused an order
        "kill_switch": "킬 스위치",
        "halted_portfolio_stop": "포트폴리오 손실 한도 (신규 매수 중단)",
        "reducing": "매도만 허용",
        "strategy_change": "다른 전략의 보유 종목",
        "not_owned": "보유하지 않은 종목",
        "zero_quantity": "주문 수량 0",
        "quantity_not_positive": "수량이 0 이하",
        "no_price": "가격 없음",
        "cooldown": "재매수 대기",
        "one_trade_a_day": "하루 1회 매매",
        "daily_cap_stock": "종목 일일 매매 한도",
        "daily_cap_account": "계좌 일일 매매 한도",
        "reentry_too_weak": "재진입 신호 약함",
        "rebuy_too_low": "재매수 가격 미달 (부분 익절 후)",
        "max_positions": "최대 보유 종목 수",
        "price_outside_limits": "가격제한폭 밖",
        "not_on_tick": "호가단위 아님",
        "max_quantity": "최대 주문 수량",
        "max_amount": "최대 주문 금액",
        "max_daily_amount": "일일 최대 주문 금액",
        "order_rate": "주문 속도 제한",
        "insufficient_cash": "주문 가능 현금 부족",
        "denied": "거부",  # a denied order saved without its reason
    },
    "kind": {  # the dashboard's alert and event list: alerts.messages.AlertKind and the audit kinds it shows
        "error": "오류",
        "fill": "체결",
        "stop": "청산 규칙",
        "halt": "매매 중단/재개",
        "reconciliation": "잔고 대사",
        "report": "장 마감 보고",
        "alert": "알림",
        "operator": "운영자",
        "param": "파라미터",
        "reconcile": "잔고 대사",
        "recovery": "복구",
    },
    "phrase": {  # fixed phrases of the engine's notes and reasons, whole
        "portfolio stop": "포트폴리오 손실 한도",
        "kill switch": "킬 스위치",
        "unfilled timeout": "미체결 시간 초과",
        "unfilled timeout (re-price refused)": "미체결 시간 초과 (정정 거부)",
        "no new entries for the rest of the day": "오늘은 더 이상 신규 매수를 하지 않습니다",
        "strategy error": "전략 오류",
        "nothing qualifies: park idle cash": "조건에 맞는 종목 없음: 남는 현금을 안전자산에",
    },
}

# what an operator or the halt flag file set the trading state to (``trading halted``; the dashboard's
# operator rows show the state alone, worded from these too)
TRADING_STATES: dict[str, str] = {"halted": "매매 중단", "active": "매매 재개", "reducing": "매도만 허용"}
# the trading state itself (an operator's change: ``active -> halted by operator``)
STATE_WORDS: dict[str, str] = {"halted": "중단", "active": "정상", "reducing": "매도만 허용"}


def word(group: str, code: str, lang: Lang) -> str:
    """``code`` (an enum value as stored) in ``lang``: in English as it is; in Korean its word, or the code
    itself when it has none (a user strategy's name, a member added later): never blank."""
    if lang != "ko":
        return code
    return KOREAN_WORDS[group].get(code) or code


def phrase(text: str, lang: Lang) -> str:
    """A stored note, reason or alert text in ``lang``: in Korean a known fixed phrase whole, or the words of
    the first pattern it matches with its numbers, codes and paths as they are; the rest as it is."""
    if lang != "ko" or not text:
        return text
    whole = KOREAN_WORDS["phrase"].get(text)
    if whole is not None:
        return whole
    return _first_words(_PATTERNS, text) or text


def korean_texts(texts: Iterable[str]) -> dict[str, str]:
    """Each of ``texts`` that has Korean words, with them: what the dashboard's Korean page shows in their
    place (it asks the server, so the patterns are written once, here)."""
    worded = {}
    for text in texts:
        korean = phrase(text, "ko")
        if korean != text:
            worded[text] = korean
    return worded


def _broker_said(found: re.Match[str]) -> str | None:
    """A cancel maemae asked for, confirmed by the broker: maemae's reason worded, the broker's as it is."""
    reason = KOREAN_WORDS["phrase"].get(found[1])
    return f"{reason} (증권사: {found[2]})" if reason else None


def _denial(found: re.Match[str]) -> str | None:
    """The risk gate's reason code, then its detail: worded where it is one of the gate's (``_DETAILS``),
    else as it is (a user's own words)."""
    reason = KOREAN_WORDS["reason"].get(found[1])
    if reason is None:
        return None
    return f"{reason}: {_first_words(_DETAILS, found[2]) or found[2]}"


def _first_words(patterns: Wordings, text: str) -> str | None:
    """``text`` worded by the first of ``patterns`` that matches it whole; None where none does, or where that
    pattern's words decline it (the first fit decides: a later, looser pattern never gets a second try)."""
    for pattern, render in patterns:
        found = pattern.fullmatch(text)
        if found is not None:
            return render(found)
    return None


_N = r"(-?[\d,]+)"  # a number as the gate writes it: thousands separated
_P = r"([\d.]+)"  # a percentage or a ratio as configured
# the details the risk gate writes after its reason code (risk.gate, risk.rules), each with its numbers
_DETAILS: Wordings = (
    (re.compile(rf"{_N} shares > {_N}"), lambda m: f"{m[1]}주 > {m[2]}주"),
    (re.compile(rf"{_N} won > {_N}"), lambda m: f"{m[1]}원 > {m[2]}원"),
    (
        re.compile(rf"{_N} won committed today \(filled or working\) \+ {_N} > {_N}"),
        lambda m: f"오늘 체결·미체결 {m[1]}원 + {m[2]}원 > {m[3]}원",
    ),
    (  # the same check's words before it took back unfilled orders, in notes stored then
        re.compile(rf"{_N} won sent today \+ {_N} > {_N}"),
        lambda m: f"오늘 보낸 {m[1]}원 + {m[2]}원 > {m[3]}원",
    ),
    (re.compile(rf"{_N} won orderable"), lambda m: f"주문 가능 {m[1]}원"),
    (
        re.compile(rf"target amount buys no share at {_N}"),
        lambda m: f"목표 금액으로는 {m[1]}원에 1주도 살 수 없음",
    ),
    (re.compile(r"maemae owns no (\S+)"), lambda m: f"maemae가 보유한 {m[1]} 없음"),
    (re.compile(r"no price to size the order with"), lambda m: "주문 수량을 정할 가격 없음"),
    (re.compile(r"the kill switch is on: no new orders"), lambda m: "킬 스위치 켜짐: 새 주문 없음"),
    (re.compile(r"only orders that reduce positions are allowed"), lambda m: "보유를 줄이는 주문만 허용"),
    (re.compile(rf"quantity {_N}: must be positive"), lambda m: f"수량 {m[1]}: 1 이상이어야 함"),
    (
        re.compile(r"portfolio stop tripped on (\S+): no new entries"),
        lambda m: f"{m[1]} 포트폴리오 손실 한도 도달: 신규 매수 없음",
    ),
    (re.compile(r"(\S+) was already bought today"), lambda m: f"{m[1]} 오늘 이미 매수함"),
    (
        re.compile(r"sold at (\S+); no re-buy before (.+)"),
        lambda m: f"{m[1]} 매도; {m[2]}까지 재매수 금지",
    ),
    (re.compile(rf"{_N} trades in the account today"), lambda m: f"오늘 계좌 매매 {m[1]}건"),
    (re.compile(rf"{_N} trades in (\S+) today"), lambda m: f"오늘 {m[2]} 매매 {m[1]}건"),
    (
        re.compile(rf"price {_N} not {_P}% above exit {_N}"),
        lambda m: f"가격 {m[1]}: 청산가 {m[3]}보다 {m[2]}% 이상 높지 않음",
    ),
    (
        re.compile(rf"price {_N} not {_P}% above the mark {_N}"),
        lambda m: f"가격 {m[1]}: 부분 익절가 {m[3]}보다 {m[2]}% 이상 높지 않음",
    ),
    (
        re.compile(rf"price {_N} not {_P}% above {_N}"),
        lambda m: f"가격 {m[1]}: 최근 고가 {m[3]}보다 {m[2]}% 이상 높지 않음",
    ),
    (
        re.compile(rf"volume {_N} below {_P} x {_N}"),
        lambda m: f"거래량 {m[1]} < 평균 {m[3]} x {m[2]}",
    ),
    (re.compile(rf"{_N} positions open \(max {_N}\)"), lambda m: f"보유 종목 {m[1]}개 (최대 {m[2]}개)"),
    (re.compile(rf"{_N} orders in the last minute"), lambda m: f"최근 1분간 주문 {m[1]}건"),
    (re.compile(rf"limit {_N} is not on the tick grid"), lambda m: f"지정가 {m[1]}: 호가단위가 아님"),
    (
        re.compile(rf"limit {_N} outside {_N}\.\.{_N}"),
        lambda m: f"지정가 {m[1]}: 가격제한폭 {m[2]}..{m[3]} 밖",
    ),
    (
        re.compile(r"(\S+) was bought by (.+); policy (\S+)"),
        lambda m: f"{m[1]}: {m[2]} 전략이 매수한 종목; 정책 {m[3]}",
    ),
)


def _set_by(found: re.Match[str]) -> str:
    """``by file PATH; 2 open order(s) cancelled`` or ``by operator alice: live test`` (a halt alert's text:
    the operator's name and reason as they are)."""
    path, operator, asked, cancelled = found[1], found[2], found[3], found[4]
    return _by("operator" if operator else f"file {path}") + (asked or "") + _cancelled(cancelled)


def _by(who: str) -> str:
    """Who changed the trading state: the operator or the flag file worded, an actor's name as it is."""
    if who == "operator":
        return "운영자"
    return f"플래그 파일 {who.removeprefix('file ')}" if who.startswith("file ") else who


def _cancelled(count: str | None) -> str:
    """The open orders a halt cancelled, when it cancelled any."""
    return f"; 미체결 주문 {count}건 취소" if count else ""


def _state_change(found: re.Match[str]) -> str:
    """``active -> halted by operator; 2 open order(s) cancelled`` (the engine applying a state)."""
    before, after, who, cancelled = found[1], found[2], found[3], found[4]
    return f"{STATE_WORDS[before]} -> {STATE_WORDS[after]} ({_by(who)})" + _cancelled(cancelled)


def _recovery(found: re.Match[str]) -> str:
    """A start's recovery line (``RecoveryReport.line``) with the broker's name for what it trades with."""
    orders, found_at, other, never, fills, closed, differences, unasked = found.groups()
    venue = "증권사" if other == "broker" else "거래소"
    text = (
        f"복구: 주문 {orders}건 복원, {venue}에서 {found_at}건 확인, {never}건 미전송, 체결 {fills}건 회수, "
        f"{closed}건 종료, 잔고 대사 차이 {differences}건"
    )
    if unasked:
        text += f"; {venue}가 {unasked}의 주문을 조회할 수 없어 그 주문은 확인 없이 만료됨"
    return text


def _exit_order(found: re.Match[str]) -> str:
    """``stop loss sell 10 005930``: the exit rule and the side worded."""
    rule = found[1].replace(" ", "_")
    return f"{word('source', rule, 'ko')} {word('side', found[2], 'ko')} {found[3]} {found[4]}"


def _fill(found: re.Match[str]) -> str:
    text = f"주문 {found[1]}: {found[2]}/{found[3]} 체결"
    return f"{text}; {phrase(found[4], 'ko')}" if found[4] else text


# a whole stored text, matched by the first pattern that fits (prices with thousands separators, as notes
# are written now, or without, as older stored notes have them)
_PATTERNS: Wordings = (
    # an exit rule's reason (risk.exits, the kernel's time-cut)
    (re.compile(r"price ([\d,]+) <= stop ([\d,]+)"), lambda m: f"가격 {m[1]} <= 손절가 {m[2]}"),
    (
        re.compile(r"price ([\d,]+) <= ([\d,]+) \(high ([\d,]+)\)"),
        lambda m: f"가격 {m[1]} <= {m[2]} (고가 {m[3]})",
    ),
    (re.compile(r"price ([\d,]+) >= target ([\d,]+)"), lambda m: f"가격 {m[1]} >= 목표가 {m[2]}"),
    (re.compile(r"time-cut after (\d+) sessions"), lambda m: f"{m[1]}거래일 보유 후 타임컷"),
    (re.compile(r"time-cut on (\d{4}-\d\d-\d\d)"), lambda m: f"{m[1]} 지정일 타임컷"),
    # an order's note
    (re.compile(r"broker order (\S+)"), lambda m: f"증권사 주문번호 {m[1]}"),
    (re.compile(r"fill (\S+): ([\d,]+) @ ([\d,]+)"), lambda m: f"체결 {m[1]}: {m[2]} @ {m[3]}"),
    (re.compile(r"not sent: (.*)", re.DOTALL), lambda m: f"전송 안 됨: {m[1]}"),
    (re.compile(r"re-price ([\d,]+) -> ([\d,]+)"), lambda m: f"정정 {m[1]} -> {m[2]}"),
    (re.compile(r"(.+?) \(broker: (.*)\)", re.DOTALL), _broker_said),
    # a start's recovery line (before the denial's ``code: detail``, which its ``recovery:`` would match)
    (
        re.compile(
            r"recovery: ([\d,]+) orders? restored, ([\d,]+) found at the (broker|venue), "
            r"([\d,]+) never sent, ([\d,]+) fills? recovered, ([\d,]+) closed, "
            r"([\d,]+) reconciliation differences?"
            r"(?:; the (?:broker|venue) cannot list the orders of (.+): their orders were expired unchecked)?"
        ),
        _recovery,
    ),
    (re.compile(r"(\w+): (.*)", re.DOTALL), _denial),
    # an alert's title or text
    (re.compile(r"trading (\w+)"), lambda m: TRADING_STATES.get(m[1])),
    (
        re.compile(
            r"by (?:file (.+?)|(operator)((?: \S+)?(?:: .*?)?))(?:; (\d+) open order\(s\) cancelled)?",
            re.DOTALL,
        ),
        _set_by,
    ),
    # an audit record's line (service.audit_text): a state applied, asked for, a parameter changed
    (
        re.compile(
            r"(active|halted|reducing) -> (active|halted|reducing) by (.+?)"
            r"(?:; (\d+) open order\(s\) cancelled)?"
        ),
        _state_change,
    ),
    (
        re.compile(r"asked by (\S+?)(?:: (.*))?", re.DOTALL),
        lambda m: f"{_by(m[1])}의 요청" + (f": {m[2]}" if m[2] else ""),
    ),
    (
        re.compile(r"(.+) -> (.+) by (\S+?)( \(back to the config file's\))?", re.DOTALL),
        lambda m: f"{m[1]} -> {m[2]} ({_by(m[3])})" + (" (설정 파일 값으로 되돌림)" if m[4] else ""),
    ),
    (
        re.compile(r"(buy|sell) (\d+) (\S+) @ (\S+)"),
        lambda m: f"{word('side', m[1], 'ko')} {m[2]} {m[3]} @ {m[4]}",
    ),
    (re.compile(r"([a-z]+(?: [a-z]+)*) (buy|sell) (\d+) (\S+)"), _exit_order),
    (re.compile(r"order (\S+): (\d+)/(\d+) filled(?:; (.*))?", re.DOTALL), _fill),
    (re.compile(r"(\d{4}-\d\d-\d\d) closed"), lambda m: f"{m[1]} 장 마감"),
    (
        re.compile(r"orders (\d+), fills (\d+); equity ([\d,]+) won \(([+-]?[\d,]+) won today\)"),
        lambda m: f"주문 {m[1]}, 체결 {m[2]}; 평가금 {m[3]}원 (오늘 {m[4]}원)",
    ),
    (
        re.compile(r"(\d+) strategy error\(s\); see the log"),
        lambda m: f"전략 오류 {m[1]}건; 로그를 확인하세요",
    ),
)
