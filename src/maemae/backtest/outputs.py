"""Writing a backtest's results: summary.json, trades.csv, orders.csv, equity.csv and report.html
(docs/backtest.md).

A run's files are one set: the report and the CSVs describe the same run. They are written into a staging
folder inside the output folder, made before the run (so an unusable ``--out`` is reported at once, not after
the whole run), and moved into place only once all of them are written: the folder then holds the new set
or the previous run's files, never a mix, and never a half-written file.
A comparison's tables and its policies' folders are one set in the same way (names with a sub-folder).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from maemae.backtest.metrics import Metrics
from maemae.backtest.runner import DayRecord
from maemae.data.parquet_io import create_temporary, missing_folders, remove_empty
from maemae.data.staging_folders import PREVIOUS, make_staging, release, remove_staging
from maemae.domain.fill import Fill
from maemae.domain.order import Order
from maemae.errors import ConfigError, MaemaeError

OUTPUT_FILES = ("summary.json", "trades.csv", "orders.csv", "equity.csv", "report.html")
STAGING_PREFIX = ".maemae-run-"  # one a killed run left is removed by a later run (data.staging_folders)


def open_staging(
    out_dir: Path, option: str, names: Sequence[str] = OUTPUT_FILES, given: Path | None = None
) -> Path:
    """Create ``out_dir`` if needed and an empty staging folder in it (one file system: the final move is a
    rename); ``option`` names where ``out_dir`` came from (``--out``, ``backtest.out_dir``) in the error
    line when the folder cannot be used, with ``given``, the folder as the user gave it, when ``out_dir``
    is one a command makes in it (``compare``'s, ``sweep``'s): the line names what the user typed, and the
    path in the way. ``names`` are the outputs' paths inside ``out_dir`` (``none/report.html`` for a
    comparison): one a folder, or a file where one needs a folder, is refused now, before any run, since the
    set could not be moved into place after it."""
    shown = given or out_dir
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            _check_target(out_dir, name, f"{option} {str(shown)!r}", out_dir != shown)
        return make_staging(out_dir, STAGING_PREFIX)
    except OSError as error:
        raise ConfigError(f"{option} {str(shown)!r}: {_unusable(out_dir, error, shown)}") from None


def _check_target(out_dir: Path, name: str, label: str, full: bool) -> None:
    """Refuse ``name`` when the file it names is a folder, or a folder on its way is a file; ``label`` is
    the option and its value, ``full``: the path named whole (it is not in the folder ``label`` names)."""
    for folder in reversed(Path(name).parents[:-1]):  # ``none`` of ``none/report.html``; none for a file
        if (out_dir / folder).exists() and not (out_dir / folder).is_dir():
            raise ConfigError(f"{label}: {str(out_dir / folder)!r} is a file; expected a folder")
    if (out_dir / name).is_dir():
        where = repr(str(out_dir / name)) if full else f"{name} there"
        raise ConfigError(f"{label}: {where} is a folder; expected a file")


@contextmanager
def staged(
    out_dir: Path, option: str, names: Sequence[str] = OUTPUT_FILES, given: Path | None = None
) -> Iterator[Path]:
    """A staging folder for a run's outputs (:func:`open_staging`, ``given`` as there), removed when the run
    ends. When the run fails or is refused (its dates, its data), the folders opening it created are removed
    too if still empty: a refused command leaves no trace of its ``--out``."""
    made = missing_folders(out_dir)
    staging = open_staging(out_dir, option, names, given)
    try:
        yield staging
    except BaseException:
        discard(staging)
        remove_empty(made)
        raise
    discard(staging)


def check_out_dir(out_dir: Path, option: str, names: Sequence[str] = OUTPUT_FILES) -> None:
    """Fail now, with one line, when outputs cannot be written to ``out_dir``: before a run, not after it.
    ``names`` as for :func:`open_staging` (none: only the folder, when the files' names are not known yet).
    The folder is made, if missing, and kept: a run's report folder next to a SQLite store (``var/reports``)
    makes the store's folder too, which the store itself does not create."""
    discard(open_staging(out_dir, option, names))


def _unusable(out_dir: Path, error: OSError, shown: Path) -> str:
    """Why ``out_dir`` cannot hold the outputs, in words: a file in the way (named, unless it is the folder
    the line names, ``shown``), no permission, or the system's reason; where, when ``out_dir`` is a folder
    made in ``shown`` (``x/compare`` may be read-only where ``x`` is not)."""
    blocking = next((p for p in (out_dir, *out_dir.parents) if p.exists() and not p.is_dir()), None)
    if blocking == shown:
        return "is a file; expected a folder (existing, or one to create)"
    if blocking is not None:
        return f"{str(blocking)!r} is a file; expected a folder"
    there = "there" if out_dir == shown else f"in {str(out_dir)!r}"
    if isinstance(error, PermissionError):
        return f"no permission to create or write files {there}"
    return f"cannot write {there}: {error.strerror or error}"


def publish(
    staging: Path,
    out_dir: Path,
    option: str,
    names: Sequence[str] = OUTPUT_FILES,
    what: str = "the backtest's outputs",
    given: Path | None = None,
) -> None:
    """Move the set written in ``staging`` into ``out_dir``: the previous run's files aside first, then the
    new ones in, each a rename. If one fails (a file another program holds open on Windows, a full disk
    meanwhile), what was moved goes back and the error is one line: the folder keeps the old files.
    ``names`` may hold sub-folders (a comparison's ``none/report.html``); ``what`` says what the set is in
    the error line, ``given`` as for :func:`open_staging`."""
    previous = staging / PREVIOUS
    aside: list[str] = []
    placed: list[str] = []
    try:
        previous.mkdir()
        # each name is listed before its move: a Ctrl-C between the two must not leave a moved file unlisted
        # (``_put_back`` passes over a listed one that has not moved)
        for name in names:
            if os.path.lexists(out_dir / name):
                aside.append(name)
                _move(out_dir / name, previous / name)
        for name in names:
            placed.append(name)
            _move(staging / name, out_dir / name)
    except OSError as error:
        restored = _put_back(staging, out_dir, placed, aside)
        raise failed_write(out_dir, option, error, None if restored else previous, what, given) from None
    except BaseException:  # Ctrl-C half-way: the old set goes back too, never a mix
        _put_back(staging, out_dir, placed, aside)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def _move(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``, making the folder it goes into when it is not there yet."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _put_back(staging: Path, out_dir: Path, placed: list[str], aside: list[str]) -> bool:
    """Undo a publish that failed half-way; False when a previous file could not go back (it stays in the
    staging folder, which is then kept). A sub-folder the new set made and that is empty again goes too."""
    try:
        for name in placed:
            if os.path.lexists(staging / name):  # listed, not yet moved: nothing to undo
                continue
            os.replace(out_dir / name, staging / name)
        for name in aside:
            if os.path.lexists(previous := staging / PREVIOUS / name):
                os.replace(previous, out_dir / name)
    except OSError:
        return False
    for name in placed:
        if Path(name).parent != Path():
            remove_empty([out_dir / Path(name).parent])
    return True


def failed_write(
    out_dir: Path,
    option: str,
    error: OSError,
    kept_in: Path | None = None,
    what: str = "the backtest's outputs",
    given: Path | None = None,
) -> MaemaeError:
    """The one line for outputs that could not be written after the run (``kept_in``: where the previous
    files are when they could not all be put back). Exit 1, not 2: the folder passed the check before the
    run, so the cause is the machine (a full disk, an I/O error, a file another program holds open), not a
    wrong option or config value. ``given`` as for :func:`open_staging`: the line names the folder the user
    gave, then the one made in it where the writing failed (``--out 'x'``, not ``--out 'x/compare'``, which
    the user never typed)."""
    kept = (
        "the files there are unchanged"
        if kept_in is None
        else f"the previous files could not all be put back: they are in {str(kept_in)!r}"
    )
    shown = given or out_dir
    where = "" if out_dir == shown else f" in {str(out_dir)!r}"
    return MaemaeError(
        f"{option} {str(shown)!r}: could not write {what}{where} ({error.strerror or error}); {kept}"
    )


def discard(staging: Path) -> None:
    """Remove the staging folder, unless it holds previous files a failed publish could not put back."""
    previous = staging / PREVIOUS
    if previous.is_dir() and any(not path.is_dir() for path in previous.rglob("*")):
        release(staging)
        return
    remove_staging(staging)


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = create_temporary(path)  # mode as open() gives, not mkstemp's 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as sink:
            sink.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_summary(path: Path, metrics: Metrics, extra: dict[str, object]) -> None:
    data = {**asdict(metrics), **extra}
    for key in ("total_return", "cagr", "max_drawdown", "sharpe", "win_rate", "turnover"):
        if data[key] is not None:  # a win rate with no sell is null, not 0
            data[key] = round(float(data[key]), 6)
    write_text_atomically(path, json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def write_trades(path: Path, fills: Sequence[Fill]) -> None:
    rows = (
        (
            f.ts.isoformat(),
            f.code,
            f.side.value,
            f.quantity,
            f.price,
            f.commission,
            f.tax,
            f.order_id,
            f.fill_id,
        )
        for f in fills
    )
    header = ("time", "code", "side", "quantity", "price", "commission", "tax", "order_id", "fill_id")
    write_text_atomically(path, _csv_text(header, rows))


def write_orders(path: Path, orders: Iterable[Order]) -> None:
    """orders.csv; ``quantity`` is the order's, except for a denied intent, whose order holds at least one
    share: there it is what the intent asked for (``Order.listed_quantity``), empty for a buy left to the
    gate's sizing, and as given for 0 or fewer shares. ``asked_quantity`` is what the intent asked for where
    the order holds another number (a sell clipped to the shares held), empty elsewhere."""

    def reason(order: Order) -> str:
        return order.history[-1].note if order.history else ""

    rows = (
        (
            o.order_id,
            o.created_at.isoformat(),
            o.code,
            o.side.value,
            o.order_type.value,
            "" if (quantity := o.listed_quantity) is None else quantity,
            o.asked_quantity if o.asked_quantity is not None and o.asked_quantity != quantity else "",
            o.limit_price if o.limit_price is not None else "",
            o.state.value,
            o.filled_quantity,
            o.average_fill_price if o.average_fill_price is not None else "",
            o.source.value,
            o.strategy,
            o.reason,
            reason(o),
        )
        for o in orders
    )
    header = (
        "order_id",
        "created",
        "code",
        "side",
        "type",
        "quantity",
        "asked_quantity",
        "limit_price",
        "final_state",
        "filled_quantity",
        "average_fill_price",
        "source",
        "strategy",
        "reason",
        "last_note",
    )
    write_text_atomically(path, _csv_text(header, rows))


def write_equity(path: Path, days: Sequence[DayRecord]) -> None:
    rows = ((d.day.isoformat(), d.equity, d.cash, d.positions) for d in days)
    write_text_atomically(path, _csv_text(("date", "equity", "cash", "positions"), rows))
