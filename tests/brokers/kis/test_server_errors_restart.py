"""KIS answering HTTP 500 for a few seconds mid-day: the run stops with the restartable exit code 7, and
``--supervise`` restarts it, so the day completes.

The reviewer's failure: the reads were retried (``execution.resilience.read_attempts``, about 3.5 s), then the
``RetryableBrokerError`` ended the run with exit code 3, "broker error", which the supervisor takes as final:
a burst of KIS server errors ended the trading day, leaving open orders unmanaged and stops unwatched until
someone started it again by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from maemae.errors import BrokerConnectionLost, RetryableBrokerError
from tests.brokers.kis.mock_process import kis_mock_process
from tests.brokers.kis.test_paper_kis import DAY
from tests.engine.test_paper import _config, _wait_for_cursor


def test_retryable_broker_error_exits_with_the_supervisors_restart_code() -> None:
    assert RetryableBrokerError("KIS /x: HTTP 500").exit_code == BrokerConnectionLost.exit_code == 7


def test_paper_supervised_when_kis_answers_500_for_a_while_then_restarted_and_the_day_completes(
    market_root: Path, tmp_path: Path
) -> None:
    config_file = _config(market_root, tmp_path)
    maemae = [sys.executable, "-m", "maemae.cli"]
    with kis_mock_process(config_file) as url:
        paper = [*maemae, "paper", "--config", str(config_file), "--replay", DAY.isoformat(), "--supervise"]
        paper += ["--broker", "kis-mock", "--exchange", url, "--speed", "3000"]
        supervised = subprocess.Popen(paper, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for_cursor(f"sqlite:///{tmp_path}/state.db", 100, 60)
        # more errors in a row than one read's tries: the read that meets them fails for good
        httpx.post(url + "/_mock/faults", json={"set": {"server_errors": 6}}).raise_for_status()
        out, err = supervised.communicate(timeout=240)
    assert supervised.returncode == 0, out + err
    assert "HTTP 500" in err
    assert "worker ended by code 7; restart 1 in 1 s" in out
    assert f"resumed {DAY} at step" in out
    assert "book: maemae's orders, holdings and cash equal the venue's" in out
    assert out.rstrip().endswith("supervisor: worker exited with code 0")
