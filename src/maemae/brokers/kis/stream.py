"""The KIS WebSocket: real-time trades and fill notices, on a thread of its own, into a queue.

The trading loop is one thread (ports/broker.py); this stream only receives and queues. It

* subscribes the fill notices (key: the HTS id) and the real-time trades of up to ``limit - 1`` stocks
  (KIS allows 41 registrations per app key; codes beyond it are priced by REST polling);
* decrypts encrypted payloads (first field ``1``) with the AES key and IV from the subscribe reply;
* echoes ``PINGPONG`` frames, as KIS requires to keep the session;
* reconnects with backoff after any drop and subscribes again, counting the reconnects: the adapter runs a
  REST query after each one, to catch fills that happened while it was away.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from maemae.brokers.kis import crypto, protocol

log = structlog.get_logger("maemae.kis.stream")


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One decoded data record: its tr_id and its fields by column name."""

    tr_id: str
    fields: dict[str, str]


@dataclass(slots=True)
class _Keys:
    by_tr: dict[str, tuple[str, str]] = field(default_factory=dict)


class KisStream:
    def __init__(
        self,
        *,
        url: str,
        approval_key: Callable[[], str],
        notice_tr: str,
        hts_id: str,
        trade_codes: Sequence[str],
        limit: int = protocol.WS_REGISTRATION_LIMIT,
        max_backoff: float = 30.0,
    ) -> None:
        self.url = url
        self._approval_key = approval_key
        self._notice_tr, self._hts_id = notice_tr, hts_id
        self.trade_codes = list(trade_codes)[: max(limit - 1, 0)]
        self.records: queue.SimpleQueue[StreamRecord] = queue.SimpleQueue()
        self.reconnects = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._max_backoff = max_backoff
        self._thread = threading.Thread(target=self._run, name="kis-stream", daemon=True)
        self._connection: ClientConnection | None = None
        self._keys = _Keys()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        connection = self._connection
        if connection is not None:
            connection.close()
        self._thread.join(timeout=5)

    def drain(self) -> list[StreamRecord]:
        records: list[StreamRecord] = []
        while True:
            try:
                records.append(self.records.get_nowait())
            except queue.Empty:
                return records

    # ----- the thread
    def _run(self) -> None:
        backoff = 0.2
        first = True
        while not self._stop.is_set():
            try:
                key = self._approval_key()
                with connect(self.url, open_timeout=10, close_timeout=2) as connection:
                    self._connection = connection
                    self._subscribe(connection, key)
                    if not first:
                        self.reconnects += 1
                    first = False
                    self.connected.set()
                    backoff = 0.2
                    for message in connection:
                        self._on_message(
                            connection, message if isinstance(message, str) else message.decode()
                        )
            except (OSError, WebSocketException, TimeoutError) as error:
                log.warning("kis stream dropped", error=repr(error))
            except Exception as error:  # the stream must outlive a bad frame or a failed approval call
                log.error("kis stream failed", error=repr(error))
            finally:
                self._connection = None
                self.connected.clear()
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, self._max_backoff)

    def _subscribe(self, connection: ClientConnection, key: str) -> None:
        registrations = [(self._notice_tr, self._hts_id)] + [
            (protocol.TRADES_TR, c) for c in self.trade_codes
        ]
        for tr_id, tr_key in registrations:
            connection.send(
                json.dumps(
                    {
                        "header": {
                            "approval_key": key,
                            "custtype": "P",
                            "tr_type": "1",
                            "content-type": "utf-8",
                        },
                        "body": {"input": {"tr_id": tr_id, "tr_key": tr_key}},
                    }
                )
            )

    def _on_message(self, connection: ClientConnection, text: str) -> None:
        if text[:1] in ("0", "1"):
            self._on_data(text)
            return
        try:
            message: dict[str, Any] = json.loads(text)
        except ValueError:
            log.warning("kis stream: unreadable frame", frame=text[:80])
            return
        header = message.get("header", {})
        tr_id = str(header.get("tr_id", ""))
        if tr_id == protocol.PINGPONG:
            connection.send(text)
            return
        output = (message.get("body") or {}).get("output") or {}
        if output.get("key") and output.get("iv"):
            self._keys.by_tr[tr_id] = (str(output["key"]), str(output["iv"]))
        body = message.get("body") or {}
        if str(body.get("rt_cd", "0")) != "0":
            log.warning("kis stream: subscription refused", tr_id=tr_id, message=body.get("msg1", ""))

    def _on_data(self, text: str) -> None:
        parts = text.split("|", 3)
        if len(parts) != 4:
            return
        encrypted, tr_id, count, payload = parts
        if encrypted == "1":
            keys = self._keys.by_tr.get(tr_id)
            if keys is None:
                log.warning("kis stream: encrypted frame before its key", tr_id=tr_id)
                return
            payload = crypto.decrypt(keys[0], keys[1], payload)
        columns = protocol.TRADE_COLUMNS if tr_id == protocol.TRADES_TR else protocol.NOTICE_COLUMNS
        values = payload.split("^")
        records = int(count) if count.isdigit() else 1
        width = len(columns)
        for index in range(records):
            chunk = values[index * width : (index + 1) * width]
            if len(chunk) < width:
                break
            self.records.put(StreamRecord(tr_id, dict(zip(columns, chunk, strict=True))))
