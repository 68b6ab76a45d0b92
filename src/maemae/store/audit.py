"""The audit log's hash chain: each record's hash covers its own content and the previous record's hash.

Changing, deleting or inserting a record anywhere breaks the chain from that point on, so ``maemae audit
verify`` can name the first record that was tampered with or is missing. The records are also append-only in
the database itself (triggers refuse UPDATE and DELETE); the chain is what catches a change made around them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def canonical_json(data: Any) -> str:
    """One text for one value: sorted keys, no spaces, non-ASCII kept (Korean reasons stay readable)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(seq: int, at: datetime, kind: str, subject: str, data: str, prev_hash: str) -> str:
    text = "\x1f".join((str(seq), at.isoformat(timespec="microseconds"), kind, subject, data, prev_hash))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredRecord:
    seq: int
    at: datetime
    kind: str
    subject: str
    data: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    records: int
    problem: str | None  # None: the chain is intact

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(records: Iterable[StoredRecord]) -> VerifyResult:
    """Walk the records in ``seq`` order; report the first gap, broken link or altered record."""
    previous, expected_seq, count = GENESIS, 1, 0
    for record in records:
        count += 1
        if record.seq != expected_seq:
            return VerifyResult(count, f"record {expected_seq} is missing (next present is {record.seq})")
        if record.prev_hash != previous:
            return VerifyResult(count, f"record {record.seq}: link to record {record.seq - 1} is broken")
        recomputed = record_hash(
            record.seq, record.at, record.kind, record.subject, record.data, record.prev_hash
        )
        if recomputed != record.hash:
            return VerifyResult(count, f"record {record.seq} ({record.kind} {record.subject}) was altered")
        previous, expected_seq = record.hash, expected_seq + 1
    return VerifyResult(count, None)
