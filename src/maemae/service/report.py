"""The end-of-day report: what a trading day did, from the state database, in Korean or English.

It holds the day's trades, realised P&L after costs and the unrealised P&L at the close, the positions, the
risk events (denials by reason, exit-rule orders, halts), the reconciliation differences and, when given, the
backtest of the same day for comparison. It is written as HTML (``DAY.html``) and as a short text
(``DAY.txt``, also the report alert). Figures come from what the run saved (``daily_results`` are running
totals, so the day's figures are the difference from the previous closed day).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog

from maemae.backtest.outputs import check_out_dir, failed_write, publish, staged
from maemae.backtest.service import run_backtest
from maemae.config import MaemaeConfig
from maemae.domain.clock_time import KST
from maemae.domain.intents import EXIT_SOURCES
from maemae.domain.order_states import OrderState
from maemae.errors import DataError, MaemaeError
from maemae.ports.state import DailyResult, JsonDocument, StateStore, close_book_document
from maemae.service.audit_text import difference_text
from maemae.service.korean import Lang, phrase, word
from maemae.service.names import StockNames, name_of, stock_names
from maemae.service.status import PositionRow, audited_flag_file, close_book_rows, positions

log = structlog.get_logger("maemae.report")

REPORT_OPTION = "report.dir"  # the setting an error line about the report folder names

LABELS: dict[str, dict[Lang, str]] = {
    "title": {"ko": "일일 보고서", "en": "End-of-day report"},
    "summary": {"ko": "요약", "en": "Summary"},
    "equity": {"ko": "평가금액", "en": "Equity"},
    "change": {"ko": "전일 대비", "en": "Change on the day"},
    "cash": {"ko": "현금", "en": "Cash"},
    "realised": {"ko": "실현손익 (비용 차감 후)", "en": "Realised P&L after costs"},
    "unrealised": {"ko": "평가손익", "en": "Unrealised P&L"},
    "costs": {"ko": "수수료 + 세금", "en": "Commission + tax"},
    "orders": {"ko": "주문", "en": "Orders"},
    "fills": {"ko": "체결", "en": "Fills"},
    "denials": {"ko": "거부된 주문", "en": "Denied orders"},
    "trades": {"ko": "체결 내역", "en": "Trades"},
    "positions": {"ko": "보유 종목", "en": "Positions"},
    "risk": {"ko": "리스크 이벤트", "en": "Risk events"},
    "exits": {"ko": "청산 규칙 주문", "en": "Exit-rule orders"},
    "halts": {"ko": "거래 중지/재개", "en": "Halts and resumes"},
    "differences": {"ko": "잔고 대사 차이", "en": "Reconciliation differences"},
    "backtest": {"ko": "같은 날의 백테스트", "en": "Backtest of the same day"},
    "backtest_note": {
        "ko": (
            "백테스트는 저장된 분봉에서 backtest.initial_cash로 무포지션에서 시작합니다. 같은 현금으로 "
            "무포지션에서 시작한 모의 매매 재생(paper --replay)은 백테스트와 정확히 같습니다. 다른 종목이나 "
            "현금을 가지고 시작했거나 실시간 가격으로 판단한 실행(maemae run)은 다르게 매매하며, 그 차이는 "
            "오류가 아니라 그날의 매매가 백테스트와 얼마나 달랐는지를 보여줍니다."
        ),
        "en": (
            "The backtest starts the day flat with backtest.initial_cash on the stored minute bars: a paper "
            "replay of the day that started flat with that cash matches it exactly. A run that started with "
            "other holdings or cash, or decided on live prices (maemae run), trades otherwise; the "
            "difference is no error, it shows how far the day's trading was from the backtest's."
        ),
    },
    "none": {"ko": "없음", "en": "none"},
    "time": {"ko": "시각", "en": "Time"},
    "code": {"ko": "종목코드", "en": "Code"},
    "name": {"ko": "종목명", "en": "Name"},
    "side": {"ko": "구분", "en": "Side"},
    "quantity": {"ko": "수량", "en": "Quantity"},
    "price": {"ko": "가격", "en": "Price"},
    "source": {"ko": "사유", "en": "Source"},
    "owned": {"ko": "보유(maemae)", "en": "Owned (maemae)"},
    "account": {"ko": "계좌 수량", "en": "Account quantity"},
    "external": {"ko": "외부 수량", "en": "External"},
    "close": {"ko": "종가", "en": "Close"},
    "value": {"ko": "종가 평가액", "en": "Value at the close"},
    "reason": {"ko": "거부 사유", "en": "Denial reason"},
    "count": {"ko": "건수", "en": "Count"},
    "actual": {"ko": "실제", "en": "This run"},
    # a halt line: the state trading moved to and who moved it (a path and a person's name stay as they are)
    "state_halted": {"ko": "중단", "en": "halted"},
    "state_reducing": {"ko": "매도만 허용", "en": "reducing"},
    "state_active": {"ko": "재개", "en": "active"},
    "by_file": {"ko": "플래그 파일 {path}", "en": "file {path}"},
    "by_operator": {"ko": "운영자", "en": "operator"},
}


def label(key: str, lang: Lang) -> str:
    return LABELS[key][lang]


# an exit-rule line of ``DayReport.exits``: ``09:41 stop_loss sell 10 005930: price 69,000 <= stop 69,100``
_EXIT_LINE = re.compile(r"(\d\d:\d\d) (\w+) (\w+) (\d+) (\S+): (.*)", re.DOTALL)


def _exit_text(line: str, lang: Lang) -> str:
    """An exit-rule line in ``lang``: the rule, the side and the reason's words; time, quantity and code as
    they are."""
    found = _EXIT_LINE.fullmatch(line)
    if lang != "ko" or found is None:
        return line
    at, source, side, quantity, code, reason = found.groups()
    return (
        f"{at} {word('source', source, lang)} {word('side', side, lang)} {quantity} {code}: "
        f"{phrase(reason, lang)}"
    )


@dataclass(frozen=True, slots=True)
class TradeLine:
    time: str  # ISO 8601 with the date and +09:00: the JSON of ``report --json`` stands on its own
    code: str
    name: str  # from the instrument list; "" when it has none
    side: str
    quantity: int
    price: int
    commission: int
    tax: int
    source: str


@dataclass(frozen=True, slots=True)
class HaltLine:
    """A change of the trading state, as the audit log has it."""

    time: str  # ISO 8601 with the date and +09:00
    state: str  # the state trading moved to: halted, reducing, active
    by: str  # ``file <path>`` (the flag file), ``operator`` (the engine applied a request) or who asked


@dataclass(frozen=True, slots=True)
class BacktestComparison:
    equity: int
    orders: int
    fills: int


@dataclass(frozen=True, slots=True)
class DayReport:
    day: str
    equity: int
    # equity against the day's start (the close alert's change); None only for the first day an older
    # maemae closed, which kept no start
    change: int | None
    cash: int
    realised: int
    unrealised: int
    costs: int
    orders: int
    fills: int
    denials: int
    trades: list[TradeLine]
    positions: list[PositionRow]
    denial_reasons: dict[str, int]
    exits: list[str]
    halts: list[str]  # ``halt_lines`` in English words, as ``report --json`` has always given them
    differences: list[str]
    backtest: BacktestComparison | None = None
    notes: list[str] = field(default_factory=list)
    # the halts as data: the HTML words them in the report's language
    halt_lines: list[HaltLine] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def day_report(
    store: StateStore, day: date, names: StockNames, backtest: BacktestComparison | None = None
) -> DayReport:
    """The report of ``day`` from ``store``, its stocks named from ``names``; a day that was never closed is
    a ``DataError``."""
    results = store.daily_results()
    today = next((r for r in results if r.day == day), None)
    if today is None:
        closed = ", ".join(str(r.day) for r in results[-5:]) or "none"
        raise DataError(f"report {day}: the state database has no closed day {day} (closed days: {closed})")
    before = [r for r in results if r.day < day]
    previous = before[-1] if before else None
    saved = store.load(day)
    orders = {o.order_id: o for o in saved.orders}
    trades = [
        TradeLine(
            f.ts.astimezone(KST).isoformat(),
            str(f.code),
            name_of(names, f.code),
            f.side.value,
            f.quantity,
            f.price,
            f.commission,
            f.tax,
            orders[f.order_id].source.value if f.order_id in orders else "",
        )
        for f in store.fills(day)
    ]
    day_orders = [o for o in saved.orders if o.created_at.date() == day]
    denied = Counter(
        (o.history[-1].note.split(":")[0] if o.history else "denied")
        for o in day_orders
        if o.state is OrderState.DENIED
    )
    exits = [
        f"{o.created_at:%H:%M} {o.source.value} {o.side.value} {o.quantity} {o.code}: {o.reason}"
        for o in day_orders
        if o.source in EXIT_SOURCES
    ]
    audit = [e for e in store.audit_entries() if e.at.date() == day]
    halt_lines = [
        HaltLine(e.at.isoformat(), e.subject, str(e.data.get("by", "")))
        for e in audit
        if e.kind == "operator"
    ]
    differences = [
        f"{e.at:%H:%M} {difference_text(e.subject, e.data)}" for e in audit if e.kind == "reconcile"
    ]
    book = store.runtime_document(close_book_document(day))
    base = _start_equity(book, previous)
    return DayReport(
        day=day.isoformat(),
        equity=today.equity,
        change=today.equity - base if base is not None else None,
        cash=today.cash,
        realised=today.realised_pnl - (previous.realised_pnl if previous else 0),
        unrealised=today.unrealised_pnl,
        costs=(today.commission + today.tax) - ((previous.commission + previous.tax) if previous else 0),
        orders=today.orders,
        fills=today.fills,
        denials=today.denials,
        trades=trades,
        positions=close_book_rows(book, names) if book is not None else positions(store, day, names),
        denial_reasons=dict(denied.most_common()),
        exits=exits,
        halts=[_halt_text(line, "en") for line in halt_lines],
        differences=differences,
        backtest=backtest,
        notes=[] if base is not None else ["first closed day: no change on the day"],
        halt_lines=halt_lines,
    )


def _start_equity(book: JsonDocument | None, previous: DailyResult | None) -> int | None:
    """The equity the day's change is counted from: the day's start, as the close alert counts it (a first
    day too: its start is the cash it began with). A day closed by an older maemae, which kept no close
    book, counts from the day before's close, and has no change when it is the first."""
    if book is not None and "start_equity" in book:
        return int(book["start_equity"])
    return previous.equity if previous is not None else None


def _halt_text(line: HaltLine, lang: Lang) -> str:
    """``09:41 halted (file var/HALT)``, in ``lang``: the flag file's path and a person's name as they are."""
    flag = audited_flag_file(line.by)
    if flag is not None:
        by = label("by_file", lang).format(path=flag)
    elif line.by == "operator":
        by = label("by_operator", lang)
    else:
        by = line.by
    state = LABELS.get(f"state_{line.state}", {}).get(lang, line.state)
    return f"{datetime.fromisoformat(line.time):%H:%M} {state} ({by})"


def render_text(report: DayReport, lang: Lang) -> str:
    """The short version: for the report alert and the terminal."""
    lines = [
        f"{label('title', lang)} {report.day}",
        f"{label('equity', lang)} {report.equity:,} ({label('change', lang)} {_change(report)})",
        f"{label('realised', lang)} {report.realised:+,}, "
        f"{label('unrealised', lang)} {report.unrealised:+,}, {label('costs', lang)} {report.costs:,}",
        f"{label('orders', lang)} {report.orders}, {label('fills', lang)} {report.fills}, "
        f"{label('denials', lang)} {report.denials}",
    ]
    if report.exits:
        lines.append(f"{label('exits', lang)} {len(report.exits)}")
    if report.halts:
        lines.append(f"{label('halts', lang)} {len(report.halts)}")
    if report.differences:
        lines.append(f"{label('differences', lang)} {len(report.differences)}")
    if report.backtest is not None:
        bt = report.backtest
        lines.append(
            f"{label('backtest', lang)}: {label('equity', lang)} {bt.equity:,}, {label('orders', lang)} "
            f"{bt.orders}, {label('fills', lang)} {bt.fills}"
        )
    return "\n".join(lines)


def render_html(report: DayReport, lang: Lang) -> str:
    def table(headers: list[str], rows: list[list[object]]) -> str:
        if not rows:
            return f"<p>{label('none', lang)}</p>"
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def items(values: list[str]) -> str:
        if not values:
            return f"<p>{label('none', lang)}</p>"
        return "<ul>" + "".join(f"<li>{html.escape(v)}</li>" for v in values) + "</ul>"

    summary: list[list[object]] = [
        [label("equity", lang), report.equity],
        [label("change", lang), _change(report)],
        [label("cash", lang), report.cash],
        [label("realised", lang), f"{report.realised:+,}"],
        [label("unrealised", lang), f"{report.unrealised:+,}"],
        [label("costs", lang), report.costs],
        [label("orders", lang), report.orders],
        [label("fills", lang), report.fills],
        [label("denials", lang), report.denials],
    ]
    trades = [
        [
            _clock(t.time),
            t.code,
            t.name,
            word("side", t.side, lang),
            t.quantity,
            t.price,
            word("source", t.source, lang),
        ]
        for t in report.trades
    ]
    held: list[list[object]] = [
        [
            p.code,
            p.name,
            p.owned_quantity,
            p.account_quantity,
            p.external_quantity,
            p.price,
            p.market_value,
            p.unrealised_pnl,
        ]
        for p in report.positions
    ]
    reasons = [[word("reason", reason, lang), count] for reason, count in report.denial_reasons.items()]
    sections = [
        f"<h2>{label('summary', lang)}</h2>" + table(["", ""], summary),
        f"<h2>{label('trades', lang)}</h2>"
        + table(
            [label(k, lang) for k in ("time", "code", "name", "side", "quantity", "price", "source")], trades
        ),
        f"<h2>{label('positions', lang)}</h2>"
        + table(
            [
                label(k, lang)
                for k in ("code", "name", "owned", "account", "external", "close", "value", "unrealised")
            ],
            held,
        ),
        f"<h2>{label('risk', lang)}</h2>"
        + f"<h3>{label('denials', lang)}</h3>"
        + table([label("reason", lang), label("count", lang)], reasons)
        + f"<h3>{label('exits', lang)}</h3>"
        + items([_exit_text(line, lang) for line in report.exits])
        + f"<h3>{label('halts', lang)}</h3>"
        + items([_halt_text(line, lang) for line in report.halt_lines] or report.halts),
        f"<h2>{label('differences', lang)}</h2>" + items(report.differences),
    ]
    if report.backtest is not None:
        bt = report.backtest
        rows = [
            [label("equity", lang), report.equity, bt.equity],
            [label("orders", lang), report.orders, bt.orders],
            [label("fills", lang), report.fills, bt.fills],
        ]
        sections.append(
            f"<h2>{label('backtest', lang)}</h2><p>{label('backtest_note', lang)}</p>"
            + table(["", label("actual", lang), label("backtest", lang)], rows)
        )
    title = f"maemae {label('title', lang)} {report.day}"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>"
    )


def write_report(
    report: DayReport, directory: Path, lang: Lang, option: str, configured: Lang | None = None
) -> tuple[Path, Path]:
    """``DAY.html`` and ``DAY.txt`` in ``directory``, as one set (:mod:`maemae.backtest.outputs`): both new or
    both as they were, never half-written. ``option`` names where ``directory`` came from (``--out``,
    ``report.dir``) in the one line that says why it could not be written.

    A report in another language than the ``configured`` one (``report.lang``) is ``DAY.LANG.html`` and
    ``DAY.LANG.txt``: ``DAY.html`` is the close's, which the dashboard shows, and stays in the config's
    language."""
    stem = str(report.day) if configured in (None, lang) else f"{report.day}.{lang}"
    names = (f"{stem}.html", f"{stem}.txt")
    texts = (render_html(report, lang), render_text(report, lang) + "\n")
    what = f"the report of {report.day}"
    with staged(directory, option, names) as staging:
        try:
            for name, text in zip(names, texts, strict=True):
                (staging / name).write_text(text, encoding="utf-8")
        except OSError as error:
            raise failed_write(directory, option, error, what=what) from None
        publish(staging, directory, option, names, what)
    return directory / names[0], directory / names[1]


def _change(report: DayReport) -> str:
    return f"{report.change:+,}" if report.change is not None else "-"


def _clock(iso: str) -> str:
    """A trade's time of day for the report's table: the page is of one day, so the date would only repeat."""
    return f"{datetime.fromisoformat(iso):%H:%M:%S}"


def _cell(value: object) -> str:
    """A table cell: a whole number with thousands separators, no value (a position with no close) blank."""
    if value is None:
        return ""
    return f"{value:,}" if isinstance(value, int) else str(value)


def compare_with_backtest(config: MaemaeConfig, day: date) -> BacktestComparison | None:
    """The backtest of ``day`` on the stored bars (every bar, as the live loop decides), or None when the
    store has no bars of that day (a live day not yet imported)."""
    try:
        result = run_backtest(config, start=day, end=day, every_bar=True)
    except DataError:
        return None
    orders = [o for o in result.engine.orders.orders.values() if o.state is not OrderState.DENIED]
    return BacktestComparison(
        result.recorder.days[-1].equity, len(orders), sum(len(o.fill_ids) for o in orders)
    )


def report_dir(config: MaemaeConfig) -> Path:
    """``report.dir`` as configured, else a folder of this store's own under a ``reports`` folder.

    The default is per store because several stores often share one folder (a paper and a live config,
    one store per strategy): with one ``reports/`` for all of them, each day's ``DAY.html`` of one store
    overwrote another's, and the dashboard's ``/report/DAY`` of one store served another store's report.
    A SQLite store ``var/paper.db`` writes to ``var/reports/paper/``; a server database to
    ``var/reports/<host>-<database>/``. An explicit ``report.dir`` is used as it is.
    """
    if config.report.dir is not None:
        return config.report.dir
    from sqlalchemy.engine import make_url  # the config check made sure the URL parses

    url = make_url(config.store.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.parent / "reports" / database.stem
    name = "-".join(part for part in (url.host, url.database and Path(url.database).stem) if part)
    return Path("var/reports") / (_folder_name(name) or url.get_backend_name())


def _folder_name(text: str) -> str:
    """``text`` with every character a file name may not safely hold replaced by ``_``."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip(".")


def check_report_dir(config: MaemaeConfig) -> None:
    """Refuse a run in one line (exit 2) when its report folder cannot be made or written: at the start, not
    after a whole day traded, when the day is saved as closed and the run cannot simply be started again."""
    check_out_dir(report_dir(config), REPORT_OPTION, ())


def write_day_report(
    config: MaemaeConfig, store: StateStore, day: date
) -> tuple[Path | None, MaemaeError | None]:
    """The report of a day the run has just closed, written to the report folder with the backtest comparison
    if configured: its HTML file, or why it could not be written (exit code 1).

    The error is returned, not raised: the day is saved by then, and the run still has to print its book
    check, whose differences and exit code (8) a report's failure must not hide. The folder passed
    :func:`check_report_dir` when the run started, so the cause is the machine (a full disk, a folder
    removed meanwhile), and ``maemae report`` writes the report again once it is fixed."""
    try:
        backtest = compare_with_backtest(config, day) if config.report.compare_backtest else None
        names = stock_names(config.data.root, lambda line: log.warning("stock_names_unread", problem=line))
        report = day_report(store, day, names, backtest)
        return write_report(report, report_dir(config), config.report.lang, REPORT_OPTION)[0], None
    except MaemaeError as error:
        again = f"the day is saved: `maemae report --config F {day}` writes its report again"
        return None, MaemaeError(f"{error}; {again}")
