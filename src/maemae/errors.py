"""The one exception family of maemae (DESIGN section 4).

Every error a user can cause or a broker can raise is a ``MaemaeError``; the CLI turns each into a single
line and an exit code, so a user error never shows a traceback. Lives at the package root because every
layer, the innermost included, raises these.
"""

from __future__ import annotations

import re

_URL_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@/\s]*@")


class MaemaeError(Exception):
    """Base of all maemae errors. ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1


class ConfigError(MaemaeError):
    """A configuration value (file, field or CLI option) is invalid."""

    exit_code = 2


class DataError(MaemaeError):
    """Market data is missing, malformed or inconsistent."""

    exit_code = 2


class DomainError(MaemaeError):
    """A value or state change breaks a rule of the domain model (bad code, illegal order transition)."""

    exit_code = 2


class InvalidStockCode(DomainError, ValueError):
    """A stock code that is not a 6-character KRX short code."""


class IllegalTransition(DomainError):
    """An order event that the order state table does not allow in the current state."""


class BrokerError(MaemaeError):
    """Anything a broker adapter reports as failed."""

    exit_code = 3


class RetryableBrokerError(BrokerError):
    """A transient failure (timeout, rate limit, connection reset, HTTP 5xx): the same read may be tried
    again. One that outlasts the read retries stops the run as a lost connection does, with exit code 7
    (state saved), so a supervisor restarts it: the broker is likely back in seconds, and a final exit 3
    would leave the day's open orders and stops unwatched."""

    exit_code = 7


class FatalBrokerError(BrokerError):
    """A failure that retrying cannot fix (bad credentials, account locked)."""


class OrderNotSent(FatalBrokerError):
    """An order held back before it reached the broker, for a reason that stops the run (a live order no one
    confirmed: a wrong answer, end of input or no terminal at the prompt). Nothing was sent, so the order
    manager closes the order as rejected, with this error's words as its note, before the run stops, rather
    than leaving it submitted until the next start settles it."""


class ConfirmationInterrupted(OrderNotSent):
    """Ctrl-C at the confirmation of a live order: the order is refused and closed as an ``OrderNotSent``
    is, and the run stops with the exit code of every Ctrl-C (130), not of a broker error: the person chose
    to stop, and a script must not take it for a broker that needs fixing."""

    exit_code = 130


class BrokerConnectionLost(BrokerError):
    """The connection to the broker is gone. The run stops (its state is already saved) with its own exit
    code, so a supervisor restarts it; the restarted run recovers with the broker before it trades."""

    exit_code = 7


class SubmitOutcomeUnknown(BrokerError):
    """An order request may or may not have reached the broker (a timeout after sending).

    Never retried by sending again: the order goes to UNKNOWN and is settled by querying the broker.
    """


class OrderRejected(BrokerError):
    """The broker or exchange refused an order for a business reason."""


class RiskDenied(MaemaeError):
    """The risk gate refused an order; carries the typed reason."""

    exit_code = 4


class StrategyError(MaemaeError):
    """A strategy hook raised; logged and alerted, never fatal to the trading loop."""

    exit_code = 5


# What a strategy hook may raise that is taken for the strategy's bug: ``sys.exit()`` in a hook too, which
# would otherwise end a live day or a backtest half-way (SystemExit is no Exception). KeyboardInterrupt is not
# the strategy's doing and still stops the run.
HOOK_FAILURES = (Exception, SystemExit)


class StoreError(MaemaeError):
    """The state database cannot be used as it is (missing, foreign, corrupt, locked, wrong schema)."""

    exit_code = 6


class InstanceLockLost(StoreError):
    """A trading run no longer holds its store's instance lock (its PostgreSQL session ended, or its SQLite
    lock file was removed or replaced), so another run may take the store and trade it too. The run stops
    before its next order, and never takes the lock again by itself: another run may have traded meanwhile.
    It exits with the lost-connection code (7), on which a supervisor restarts it; the restarted run takes
    the lock again and recovers, or is refused (exit 6) while another run holds the store."""

    exit_code = 7


class RunInterrupted(MaemaeError):
    """Ctrl-C stopped the run before the close. It exits 130, as any maemae command interrupted by Ctrl-C
    does (and as shells expect), so a script does not take the day for done; the state is saved, and the
    same command goes on with the day (but for a paper replay whose exchange ran inside its process and is
    gone: the line says so). SIGTERM, the way the dashboard's Stop and service managers end a run,
    is a stop that was asked for: the same line as the summary, exit 0."""

    exit_code = 130


def without_passwords(text: str) -> str:
    """``text`` with the password of every URL in it masked (``postgresql://user:***@host``): an error line
    quotes what the user gave, and it goes to terminals, CI logs and alerts."""
    return _URL_PASSWORD.sub(r"\1:***@", text)


def first_line(error: BaseException) -> str:
    """The first line of what ``error`` says, or its type's name when it says nothing: a library's error
    quoted in a one-line message (a driver's or pyarrow's text can run to many lines)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
