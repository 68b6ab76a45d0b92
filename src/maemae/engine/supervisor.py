"""``--supervise``: run the trading process as a child and restart it when it dies of a fault.

The child is restarted when it ends by a signal (killed, crashed) or with exit code 7, which it stops with
when it loses the broker's connection (or the broker's reads keep failing past their retries) or its
store's instance lock: its state is saved, and the restarted
child takes the lock again (or is refused, exit 6, while another run holds the store) and recovers with the
broker before it trades. Any other ending is final: 0 (the day is done) and user errors (a bad config, an
unusable database) would only fail again.
Restarts wait 1, 2, 4, ... seconds (at most ``max_delay_s``) and stop after ``max_restarts``. A final
failure adds nothing after the worker's own error line: that one line ends the output, with or without
``--supervise``.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from maemae.errors import BrokerConnectionLost, InstanceLockLost

RESTART_CODES = frozenset({BrokerConnectionLost.exit_code, InstanceLockLost.exit_code})
Say = Callable[[str], None]


@dataclass
class Supervisor:
    command: Sequence[str]
    say: Say
    max_restarts: int = 20
    max_delay_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    start: Callable[[Sequence[str]], subprocess.Popen[bytes]] = field(
        default=lambda command: subprocess.Popen(list(command))
    )

    def run(self) -> int:
        """Run until the child ends for good; returns its exit code (1 when restarts ran out)."""
        restarts = 0
        while True:
            child = self.start(self.command)
            self.say(f"supervisor: worker pid {child.pid} started")
            code = child.wait()
            if code >= 0 and code not in RESTART_CODES:
                if code == 0:
                    self.say(f"supervisor: worker exited with code {code}")
                # otherwise the worker's own line (``error: ...``) said why, and stays the last line, as it
                # is without --supervise: a supervisor line after it buried the one line that matters
                return code
            if restarts >= self.max_restarts:
                self.say(f"supervisor: worker ended with {code} after {restarts} restarts: giving up")
                return 1
            delay = min(2.0**restarts, self.max_delay_s)
            restarts += 1
            how = f"signal {-code}" if code < 0 else f"code {code}"
            self.say(f"supervisor: worker ended by {how}; restart {restarts} in {delay:.0f} s")
            self.sleep(delay)
