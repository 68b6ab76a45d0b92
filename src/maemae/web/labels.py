"""The dashboard's words in Korean and English (``web.lang``; ``?lang=`` switches and is remembered)."""

from __future__ import annotations

from maemae.service.korean import KOREAN_WORDS, TRADING_STATES, Lang

LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "maemae dashboard", "ko": "매매 대시보드"},
    "login": {"en": "Log in", "ko": "로그인"},
    "token": {"en": "Access token", "ko": "접근 토큰"},
    "token_help": {
        "en": "The token is in the file web.token_file (created at the first start).",
        "ko": "토큰은 web.token_file 파일에 있습니다 (처음 시작할 때 생성).",
    },
    "wrong_token": {"en": "Wrong token.", "ko": "토큰이 맞지 않습니다."},
    "logout": {"en": "Log out", "ko": "로그아웃"},
    "status": {"en": "Status", "ko": "상태"},
    "trading_state": {"en": "Trading state", "ko": "매매 상태"},
    "day": {"en": "Trading day", "ko": "거래일"},
    "cash": {"en": "Cash", "ko": "현금"},
    "orderable_cash": {"en": "Orderable cash", "ko": "주문 가능 현금"},
    "pnl_today": {"en": "Realised P&L today", "ko": "오늘 실현 손익"},
    "equity_change": {"en": "Equity change today", "ko": "오늘 평가금 변화"},
    "open_orders": {"en": "Open orders", "ko": "미체결 주문"},
    "orders_today": {"en": "Orders today", "ko": "오늘 주문"},
    "denied_today": {"en": "Denied today", "ko": "오늘 거부"},
    "last_difference": {"en": "Last reconciliation difference", "ko": "최근 대사 차이"},
    "last_error": {"en": "Last error", "ko": "최근 오류"},
    "process": {"en": "Trading process", "ko": "매매 프로세스"},
    "running": {"en": "running", "ko": "실행 중"},
    "not_running": {"en": "not running", "ko": "정지"},
    "exit_code": {"en": "exit code", "ko": "종료 코드"},
    "equity": {"en": "Equity", "ko": "평가금"},
    "equity_days": {"en": "Equity by day", "ko": "일별 평가금"},
    "reports": {"en": "End-of-day reports", "ko": "장 마감 보고서"},
    "positions": {"en": "Positions", "ko": "보유 종목"},
    "code": {"en": "Code", "ko": "종목코드"},
    "name": {"en": "Name", "ko": "종목명"},
    "owned": {"en": "Owned by maemae", "ko": "maemae 보유"},
    "account": {"en": "In the account", "ko": "계좌 보유"},
    "external": {"en": "External", "ko": "외부"},
    "cost": {"en": "Cost", "ko": "매입금액"},
    "realised": {"en": "Realised", "ko": "실현 손익"},
    "last_price": {"en": "Last price", "ko": "현재가"},
    "market_value": {"en": "Market value", "ko": "평가금액"},
    "unrealised": {"en": "Unrealised", "ko": "평가 손익"},
    "priced": {"en": "Priced at", "ko": "평가 시각"},
    "orders": {"en": "Orders", "ko": "주문"},
    "denied_left_out": {
        "en": "{n} older denied intents are not shown: `maemae orders` lists every one",
        "ko": "이전 거부 주문 {n}건은 표시하지 않습니다: `maemae orders`로 모두 볼 수 있습니다",
    },
    "time": {"en": "Time", "ko": "시각"},
    "side": {"en": "Side", "ko": "구분"},
    "quantity": {"en": "Qty", "ko": "수량"},
    "filled": {"en": "Filled", "ko": "체결"},
    "price": {"en": "Price", "ko": "가격"},
    "state": {"en": "State", "ko": "상태"},
    "note": {"en": "Note / reason", "ko": "메모 / 사유"},
    "alerts": {"en": "Alerts and events", "ko": "알림과 이벤트"},
    "kind": {"en": "Kind", "ko": "종류"},
    "subject": {"en": "What", "ko": "내용"},
    "log": {"en": "Log", "ko": "로그"},
    "parameters": {"en": "Parameters", "ko": "파라미터"},
    "key": {"en": "Key", "ko": "키"},
    "value": {"en": "Value", "ko": "값"},
    "change": {"en": "Change", "ko": "변경"},
    "start": {"en": "Start", "ko": "시작"},
    "stop": {"en": "Stop", "ko": "정지"},
    "halt": {"en": "Halt", "ko": "매매 중단"},
    "reducing": {"en": "Sells only", "ko": "매도만 허용"},
    "resume": {"en": "Resume", "ko": "매매 재개"},
    "confirm_start": {"en": "Start the trading process?", "ko": "매매 프로세스를 시작할까요?"},
    "confirm_stop": {
        "en": (
            "Stop the trading process? Its state is saved, and Start resumes it with its broker or an "
            "exchange of its own (--exchange); a replay on an exchange inside the run cannot be resumed."
        ),
        "ko": (
            "매매 프로세스를 정지할까요? 상태는 저장되고, 증권사나 따로 실행 중인 거래소(--exchange)로 하는 "
            "실행은 다시 시작하면 이어서 합니다. 실행 안의 거래소로 하는 재생은 이어서 할 수 없습니다."
        ),
    },
    "confirm_halt": {
        "en": "Halt trading? No new orders, and open orders are cancelled.",
        "ko": "매매를 중단할까요? 새 주문을 내지 않고 미체결 주문은 취소합니다.",
    },
    "confirm_reducing": {"en": "Allow sells only?", "ko": "매도만 허용할까요?"},
    "confirm_resume": {"en": "Resume trading?", "ko": "매매를 재개할까요?"},
    "confirm_param": {"en": "Change this parameter?", "ko": "이 파라미터를 변경할까요?"},
    "halt_file": {"en": "Halt flag file", "ko": "중단 플래그 파일"},
    "halt_file_holds": {
        "en": "{path} exists: trading stays halted until it is deleted, whatever Resume or Sells only says",
        "ko": "{path} 파일이 있어, 매매 재개나 매도만 허용을 눌러도 이 파일을 삭제할 때까지 "
        "매매가 중단됩니다",
    },
    "state_refused_file": {
        "en": "refused, nothing changed: the halt flag file {path} still halts trading. "
        "Delete it first, then press the button again.",
        "ko": "거부했습니다(바뀐 것 없음): 중단 플래그 파일 {path}이(가) 매매를 계속 멈추고 있습니다. "
        "먼저 이 파일을 삭제한 뒤 버튼을 다시 누르세요.",
    },
    "done": {"en": "Done", "ko": "완료"},
    "none": {"en": "none", "ko": "없음"},
    "updated": {"en": "updated", "ko": "갱신"},
    "active": {"en": "active", "ko": "정상"},
    "halted": {"en": "halted", "ko": "중단"},
    # who holds the trading state (``Status.state_source``); the path, name and reason stay as they are
    "by_file": {"en": "file {path}", "ko": "플래그 파일 {path}"},
    "by_operator": {"en": "operator {who}", "ko": "운영자 {who}"},
    "by_engine": {"en": "engine (saved state)", "ko": "엔진 (저장된 상태)"},
}


# The Korean page's words for the engine's codes as stored (``group.code``: ``side.buy``, ``state.filled``,
# ``order_type.limit``, ``kind.fill``; ``feed.trading_halted`` for an operator row's state); its notes and
# alert texts come worded from the server (``/api/view?lang=ko``). The English page has none of them: it
# shows the data as it is, and dashboard.js shows a code it has no word for as it is.
PAGE_GROUPS = ("side", "state", "order_type", "kind")  # the codes dashboard.js words itself
KOREAN_FEED: dict[str, str] = {f"feed.trading_{state}": korean for state, korean in TRADING_STATES.items()}


def labels(lang: Lang) -> dict[str, str]:
    shown = {key: words[lang] for key, words in LABELS.items()}
    if lang == "ko":
        for group in PAGE_GROUPS:
            shown.update({f"{group}.{code}": korean for code, korean in KOREAN_WORDS[group].items()})
        shown.update(KOREAN_FEED)
    return shown
