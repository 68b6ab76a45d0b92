"""``SqlStateStore``: the state-store port on SQLite or PostgreSQL through SQLAlchemy Core.

Every :class:`~maemae.ports.state.StateChange` is one transaction. Fills are inserted with "on conflict do
nothing" on (trading day, fill id), so the same fill recorded twice (pushed, then found again by a query after
a restart) is one row; order history lines are appended from the first one not yet stored. The audit records
of a change get the next sequence numbers and extend the hash chain inside the same transaction.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Executable, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DatabaseError, OperationalError

from maemae.domain.clock_time import KST
from maemae.domain.codes import StockCode
from maemae.domain.fill import Fill
from maemae.domain.minute_bar import MinuteBar
from maemae.domain.order_states import OPEN_STATES
from maemae.errors import StoreError, first_line
from maemae.ports.state import (
    DAY_DOCUMENT_PREFIX,
    AuditEntry,
    DailyResult,
    PortfolioSnapshot,
    SavedState,
    StateChange,
)
from maemae.store import codec, schema
from maemae.store.audit import GENESIS, StoredRecord, VerifyResult, canonical_json, record_hash, verify_chain
from maemae.store.database import describe, open_database, sqlite_path, translate_error


def _now() -> datetime:
    """Bookkeeping time of a row (``updated_at``); never used for a trading decision."""
    return datetime.now(KST)


class SqlStateStore:
    """The state database of one maemae instance."""

    def __init__(self, url: str, *, create: bool = True, allow_older: bool = False) -> None:
        self.url = url
        self.engine: Engine = open_database(url, create=create, allow_older=allow_older)
        self._insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        # called before every write; a trading run sets its instance lock's check here, so a run that lost
        # the lock writes nothing more into a store another run may hold now (``InstanceLockLost``)
        self.before_write: Callable[[], None] | None = None
        # each upsert statement is built once, for its table and its rows' columns, then executed with the
        # rows as parameters: building one (its ``excluded`` columns, coercions, cache key) cost a replayed
        # day's run more than the transactions' own writes did
        self._upserts: dict[tuple[str, tuple[str, ...]], Executable] = {}
        # how many history lines of each order this store has written and seen committed, so a change asks
        # the database for the count only for an order this process has not written yet (after a restart)
        self._events_stored: dict[str, int] = {}

    def close(self) -> None:
        self.engine.dispose()

    # ----- writing
    def commit(self, change: StateChange) -> None:
        if not change:
            return
        if self.before_write is not None:
            self.before_write()
        events: dict[str, int] = {}
        try:
            with self.engine.begin() as connection:
                self._write(connection, change, events)
        except BaseException as error:
            # a failed commit may or may not have stored the lines (a connection lost after the COMMIT):
            # those orders' counts are asked of the database again
            for order in change.orders:
                self._events_stored.pop(order.order_id, None)
            if isinstance(error, (OperationalError, DatabaseError)):
                raise translate_error(self.url, error) from None
            raise
        self._events_stored.update(events)

    def _write(self, connection: Connection, change: StateChange, events: dict[str, int]) -> None:
        """The change's rows; ``events`` receives each order's count of stored history lines, kept by
        ``commit`` once the transaction is committed."""
        now = _now()
        for order in change.orders:
            self._upsert(
                connection, schema.orders, [codec.order_row(order, now)], "order_id", ("created_at",)
            )
            stored = events.get(order.order_id, self._events_stored.get(order.order_id))
            if stored is None:
                stored = connection.execute(
                    select(func.count()).where(schema.order_events.c.order_id == order.order_id)
                ).scalar_one()
            lines = codec.event_rows(order, int(stored))
            if lines:
                connection.execute(schema.order_events.insert(), lines)
            events[order.order_id] = int(stored) + len(lines)
        if change.fills:
            connection.execute(
                self._insert(schema.fills).on_conflict_do_nothing(index_elements=["trading_day", "fill_id"]),
                [codec.fill_row(fill) for fill in change.fills],
            )
        if change.positions:
            rows = [codec.position_row(position, now) for position in change.positions]
            self._upsert(connection, schema.positions, rows, "code")
        if change.closed_positions:
            connection.execute(
                delete(schema.positions).where(
                    schema.positions.c.code.in_([str(c) for c in change.closed_positions])
                )
            )
        if change.account is not None:
            self._upsert(connection, schema.account, [codec.account_row(change.account, now)], "id")
        if change.runtime:
            rows = [
                {"name": name, "data": document, "updated_at": now}
                for name, document in change.runtime.items()
            ]
            self._upsert(connection, schema.runtime_state, rows, "name")
        self._write_records(connection, change)
        self._write_minute_bars(connection, change)
        if change.audit:
            self._append_audit(connection, change.audit)

    def _write_records(self, connection: Connection, change: StateChange) -> None:
        """The append-only records: parameter changes, signals, snapshots, daily results."""
        if change.params:
            connection.execute(
                schema.param_changes.insert(),
                [
                    {"at": p.at, "key": p.key, "old": p.old, "new": p.new, "actor": p.actor}
                    for p in change.params
                ],
            )
        if change.signals:
            connection.execute(
                schema.signals.insert(),
                [
                    {
                        "at": s.at,
                        "code": str(s.code),
                        "strategy": s.strategy,
                        "signal": s.signal,
                        "values": s.values,
                    }
                    for s in change.signals
                ],
            )
        if change.cash:
            connection.execute(
                schema.cash_snapshots.insert(),
                [
                    {
                        "at": c.at,
                        "source": c.source,
                        "cash": c.cash,
                        "settled_cash": c.settled_cash,
                        "orderable": c.orderable,
                    }
                    for c in change.cash
                ],
            )
        if change.portfolio:
            connection.execute(
                schema.portfolio_snapshots.insert(),
                [
                    {"at": p.at, "equity": p.equity, "cash": p.cash, "positions": dict(p.positions)}
                    for p in change.portfolio
                ],
            )
        if change.daily:
            rows = [
                {
                    "trading_day": result.day,
                    "equity": result.equity,
                    "cash": result.cash,
                    "realised_pnl": result.realised_pnl,
                    "unrealised_pnl": result.unrealised_pnl,
                    "commission": result.commission,
                    "tax": result.tax,
                    "orders": result.orders,
                    "fills": result.fills,
                    "denials": result.denials,
                }
                for result in change.daily
            ]
            self._upsert(connection, schema.daily_results, rows, "trading_day")

    def _write_minute_bars(self, connection: Connection, change: StateChange) -> None:
        """A live day's newly built minute bars; a closed day's (and any older day's left by a day that never
        closed) deleted: only a restart of the same day reads them."""
        table = schema.live_minute_bars
        for code in change.minute_bars_rewritten:
            days = {bar.start.date() for bar in change.minute_bars.get(code, [])}
            connection.execute(delete(table).where(table.c.code == str(code), table.c.trading_day.in_(days)))
        rows = [
            {
                "trading_day": bar.start.date(),
                "code": str(code),
                "start": bar.start,
                "open": bar.open,
                "high": bar.high,
                "low": bar.low,
                "close": bar.close,
                "volume": bar.volume,
                "value": bar.value,
            }
            for code, bars in change.minute_bars.items()
            for bar in bars
        ]
        if (
            rows
        ):  # a bar stored twice is kept once, as a fill is (no path is known to; it must not stop a day)
            connection.execute(
                self._insert(table).on_conflict_do_nothing(index_elements=["trading_day", "code", "start"]),
                rows,
            )
        if change.minute_bars_done is not None:
            connection.execute(delete(table).where(table.c.trading_day <= change.minute_bars_done))

    def _upsert(
        self,
        connection: Connection,
        table: Any,
        rows: list[dict[str, Any]],
        key: str,
        kept: tuple[str, ...] = (),
    ) -> None:
        """Insert ``rows`` (all with the same columns), or update the stored row of the same ``key`` with
        every other column but those ``kept`` (an order's ``created_at``). Two rows of one key leave the last,
        as one statement per row did: PostgreSQL refuses a key twice in one multi-row insert."""
        columns = tuple(rows[0])
        statement = self._upserts.get((table.name, columns))
        if statement is None:
            insert = self._insert(table)
            updated = {k: insert.excluded[k] for k in columns if k != key and k not in kept}
            statement = insert.on_conflict_do_update(index_elements=[key], set_=updated)
            self._upserts[(table.name, columns)] = statement
        connection.execute(statement, list({row[key]: row for row in rows}.values()))

    def _append_audit(self, connection: Connection, entries: list[AuditEntry]) -> None:
        last = connection.execute(
            select(schema.audit_log.c.seq, schema.audit_log.c.hash)
            .order_by(schema.audit_log.c.seq.desc())
            .limit(1)
        ).first()
        seq, previous = (int(last.seq), str(last.hash)) if last else (0, GENESIS)
        rows = []
        for entry in entries:
            seq += 1
            data = canonical_json(entry.data)
            digest = record_hash(seq, entry.at, entry.kind, entry.subject, data, previous)
            rows.append(
                {
                    "seq": seq,
                    "at": entry.at,
                    "kind": entry.kind,
                    "subject": entry.subject[:80],
                    "data": data,
                    "prev_hash": previous,
                    "hash": digest,
                }
            )
            previous = digest
        connection.execute(schema.audit_log.insert(), rows)

    # ----- reading
    def load(self, day: date | None) -> SavedState:
        try:
            with self.engine.connect() as connection:
                return self._load(connection, day)
        except (OperationalError, DatabaseError) as error:
            raise translate_error(self.url, error) from None

    def _load(self, connection: Connection, day: date | None) -> SavedState:
        o = schema.orders
        wanted: ColumnElement[bool] = o.c.state.in_([s.value for s in OPEN_STATES])
        if day is not None:
            wanted = or_(wanted, o.c.trading_day == day)
        order_rows = [
            row._mapping for row in connection.execute(select(o).where(wanted).order_by(o.c.order_id))
        ]
        ids = [row["order_id"] for row in order_rows]
        events: dict[str, list[Any]] = defaultdict(list)
        fills: dict[str, list[Any]] = defaultdict(list)
        for chunk in _chunks(ids, 500):
            for row in connection.execute(
                select(schema.order_events).where(schema.order_events.c.order_id.in_(chunk))
            ):
                events[row.order_id].append(row._mapping)
            for row in connection.execute(select(schema.fills).where(schema.fills.c.order_id.in_(chunk))):
                fills[row.order_id].append(row._mapping)
        orders = [
            codec.order_from_rows(row, events[row["order_id"]], fills[row["order_id"]]) for row in order_rows
        ]
        day_fills: frozenset[str] = frozenset()
        if day is not None:
            day_fills = frozenset(
                connection.execute(
                    select(schema.fills.c.fill_id).where(schema.fills.c.trading_day == day)
                ).scalars()
            )
        positions = [
            codec.position_from_row(row._mapping) for row in connection.execute(select(schema.positions))
        ]
        account_row = connection.execute(select(schema.account)).first()
        kept_by_day = schema.runtime_state.c.name.startswith(DAY_DOCUMENT_PREFIX, autoescape=True)
        rows = connection.execute(select(schema.runtime_state).where(~kept_by_day))
        runtime = {row.name: dict(row.data) for row in rows}
        return SavedState(
            day,
            orders,
            day_fills,
            positions,
            codec.account_from_row(account_row._mapping) if account_row else None,
            runtime,
        )

    def runtime_document(self, name: str) -> dict[str, Any] | None:
        try:
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(schema.runtime_state.c.data).where(schema.runtime_state.c.name == name)
                ).first()
        except (OperationalError, DatabaseError) as error:
            raise translate_error(self.url, error) from None
        return dict(row.data) if row else None

    def daily_results(self) -> list[DailyResult]:
        """Every closed day's aggregate, oldest first (reports)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(schema.daily_results).order_by(schema.daily_results.c.trading_day)
            )
            return [
                DailyResult(
                    row.trading_day,
                    int(row.equity),
                    int(row.cash),
                    int(row.realised_pnl),
                    int(row.unrealised_pnl),
                    int(row.commission),
                    int(row.tax),
                    int(row.orders),
                    int(row.fills),
                    int(row.denials),
                )
                for row in rows
            ]

    def portfolio_snapshots(self, day: date) -> list[PortfolioSnapshot]:
        """Equity through ``day`` (KST), oldest first: the dashboard's equity curve."""
        start = datetime.combine(day, time(0), KST)
        table = schema.portfolio_snapshots
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table)
                .where(table.c.at >= start, table.c.at < start + timedelta(days=1))
                .order_by(table.c.id)
            )
            return [
                PortfolioSnapshot(row.at, int(row.equity), int(row.cash), dict(row.positions)) for row in rows
            ]

    def recent_audit(self, kinds: Sequence[str], limit: int) -> list[AuditEntry]:
        """The newest ``limit`` audit entries of the given kinds, newest first (the dashboard's feed)."""
        table = schema.audit_log
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table).where(table.c.kind.in_(list(kinds))).order_by(table.c.seq.desc()).limit(limit)
            )
            return [AuditEntry(row.at, row.kind, row.subject, json.loads(row.data)) for row in rows]

    def live_minute_bars(self, day: date) -> dict[StockCode, list[MinuteBar]]:
        """The minute bars a live run of ``day`` built and saved, by stock, oldest first (a restart's)."""
        table = schema.live_minute_bars
        bars: dict[StockCode, list[MinuteBar]] = defaultdict(list)
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(table).where(table.c.trading_day == day).order_by(table.c.code, table.c.start)
                )
                for row in rows:
                    bars[StockCode(row.code)].append(
                        MinuteBar(
                            row.start,
                            int(row.open),
                            int(row.high),
                            int(row.low),
                            int(row.close),
                            int(row.volume),
                            int(row.value),
                        )
                    )
        except (OperationalError, DatabaseError) as error:
            raise translate_error(self.url, error) from None
        return dict(bars)

    def fills(self, day: date) -> list[Fill]:
        """Every stored fill of ``day`` (reports, tests)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(schema.fills).where(schema.fills.c.trading_day == day).order_by(schema.fills.c.id)
            )
            return [codec.fill_from_row(row._mapping) for row in rows]

    def order_ids(self) -> list[str]:
        with self.engine.connect() as connection:
            return list(
                connection.execute(
                    select(schema.orders.c.order_id).order_by(schema.orders.c.order_id)
                ).scalars()
            )

    def audit_records(self) -> Iterator[StoredRecord]:
        with self.engine.connect() as connection:
            for row in connection.execute(select(schema.audit_log).order_by(schema.audit_log.c.seq)):
                yield StoredRecord(
                    int(row.seq), row.at, row.kind, row.subject, row.data, row.prev_hash, row.hash
                )

    def audit_entries(self) -> list[AuditEntry]:
        return [AuditEntry(r.at, r.kind, r.subject, json.loads(r.data)) for r in self.audit_records()]

    def verify_audit(self) -> VerifyResult:
        return verify_chain(self.audit_records())

    # ----- operations
    def backup(self, target: Path) -> None:
        """A consistent copy while maemae may be running: SQLite's online backup, or ``pg_dump``."""
        if target.exists():
            raise StoreError(f"backup: {target} already exists: choose a new file name")
        if not target.parent.is_dir():
            raise StoreError(f"backup: directory {target.parent} does not exist")
        path = sqlite_path(self.url)
        if path is not None:
            source = sqlite3.connect(str(path))
            partial = target.with_name(target.name + ".partial")
            try:
                try:
                    destination = sqlite3.connect(str(partial))
                except sqlite3.Error as error:  # a folder that takes no files (read-only, /proc, ...)
                    raise StoreError(
                        f"backup: {target} cannot be created ({first_line(error)}): choose a folder you can "
                        "write to"
                    ) from None
                try:
                    with destination:
                        source.backup(destination)
                except sqlite3.Error as error:  # a full disk, most likely: the source was opened and checked
                    raise StoreError(f"backup: {target} could not be written ({first_line(error)})") from None
                finally:
                    destination.close()
                partial.replace(target)
            finally:
                source.close()
                partial.unlink(missing_ok=True)
            return
        self._pg_dump(target)

    def _pg_dump(self, target: Path) -> None:
        binary = shutil.which("pg_dump")
        if binary is None:
            raise StoreError("backup: pg_dump is not installed: install the PostgreSQL client tools")
        url = self.engine.url
        command = [
            binary,
            "--format=custom",
            f"--file={target}.partial",
            f"--host={url.host}",
            f"--port={url.port or 5432}",
            f"--username={url.username}",
            str(url.database),
        ]
        env = {"PGPASSWORD": url.password or ""}
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        partial = Path(f"{target}.partial")
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise StoreError(
                f"backup of {describe(self.url)}: pg_dump failed: {result.stderr.strip().splitlines()[-1]}"
            )
        partial.replace(target)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = ["SqlStateStore"]
