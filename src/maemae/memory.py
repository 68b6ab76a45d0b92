"""How much memory this process has used at most: sweep rows report it per worker, benchmarks per run."""

from __future__ import annotations

import sys


def peak_rss_mib() -> float:
    """The peak resident set size of this process, in MiB."""
    if sys.platform == "win32":  # no ``resource`` module; psutil comes with Dask
        import psutil

        return float(psutil.Process().memory_info().peak_wset) / 2**20
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux
