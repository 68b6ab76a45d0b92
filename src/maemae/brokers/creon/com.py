"""The COM seam: everything the Creon adapter needs from Windows COM, behind one small interface.

``Win32Runtime`` is the real one (pywin32 on 32-bit Windows Python, with Creon Plus logged in);
``fake.objects.FakeRuntime`` is the test double that runs anywhere. The adapter is the same code over both.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Protocol

from maemae.errors import ConfigError


class ComRuntime(Protocol):
    def dispatch(self, progid: str) -> Any:
        """A new COM object (``win32com.client.Dispatch``)."""
        ...

    def with_events(self, source: Any, handler: type) -> Any:
        """Attach an event handler class to ``source``; returns the handler instance
        (``win32com.client.WithEvents``). Its ``OnReceived`` runs when this thread pumps messages."""
        ...

    def pump(self) -> None:
        """Deliver the events waiting for this thread (``pythoncom.PumpWaitingMessages``)."""
        ...

    def is_admin(self) -> bool:
        """Whether this process runs as administrator (Creon Plus requires it)."""
        ...


class Win32Runtime:
    """Windows COM through pywin32. Made on the thread that will trade (COM objects and their events belong
    to the thread that created them)."""

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise ConfigError(
                f'broker.kind = "creon": Creon Plus runs on Windows only (this is {sys.platform}); '
                'use broker.kind = "kis" here'
            )
        try:
            client: Any = importlib.import_module("win32com.client")
            pythoncom: Any = importlib.import_module("pythoncom")
        except ImportError:
            raise ConfigError(
                'broker.kind = "creon": pywin32 is not installed: pip install pywin32 '
                "(in 32-bit Python, docs/brokers/creon.md)"
            ) from None
        self._client: Any = client
        self._pythoncom: Any = pythoncom
        pythoncom.CoInitialize()

    def dispatch(self, progid: str) -> Any:
        return self._client.Dispatch(progid)

    def with_events(self, source: Any, handler: type) -> Any:
        return self._client.WithEvents(source, handler)

    def pump(self) -> None:
        self._pythoncom.PumpWaitingMessages()

    def is_admin(self) -> bool:
        import ctypes

        return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
