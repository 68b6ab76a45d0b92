"""A process's peak memory is its own: a worker started by a big parent does not report the parent's."""

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from maemae.memory import peak_rss_mib

BIG = 400 * 2**20


@pytest.mark.skipif(sys.platform != "linux", reason="fork and exec carry ru_maxrss over on Linux")
def test_peak_rss_when_a_big_parent_starts_a_worker_reports_the_workers_own_peak() -> None:
    held = np.ones(BIG // 8)  # written, so resident
    assert peak_rss_mib() >= BIG / 2**20

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        worker = pool.submit(peak_rss_mib).result()

    assert 0 < worker < 200, f"worker reported {worker:.0f} MiB, its parent holds {held.nbytes / 2**20:.0f}"
