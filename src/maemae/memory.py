"""How much memory this process has used at most: sweep rows report it per worker, benchmarks per run."""

from __future__ import annotations

import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")


def peak_rss_mib() -> float:
    """The peak resident set size of this process, in MiB.

    On Linux it is the high-water mark of this process image (``VmHWM``). ``getrusage``'s ``ru_maxrss``
    would be wrong for a worker: Linux carries it over from the parent through fork and exec, so a worker
    started by a parent holding 1.3 GiB reports at least 1.3 GiB whatever it uses itself.
    """
    if sys.platform == "win32":  # no ``resource`` module; psutil comes with Dask
        import psutil

        return float(psutil.Process().memory_info().peak_wset) / 2**20
    if _STATUS.exists():
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # in kB
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux
