"""A description of the machine a benchmark ran on, so a figure is never read without its context."""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import datetime

from maemae import compiled
from maemae.domain.clock_time import KST


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _python_loop_rate() -> str:
    """A bare Python loop's speed now: a shared cloud machine's "AMD EPYC" can run at half the speed from one
    day to the next, so figures of two runs compare only through this."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return f"{2_000_000 / best / 1e6:.1f} M additions/s (best of 3)"


def describe_machine() -> dict[str, str]:
    """CPU, cores, memory, OS and Python of this run, when it ran (KST), how fast Python runs on it, and
    whether the engine ran compiled (`maemae.compiled`)."""
    return {
        "date": datetime.now(KST).strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "bare Python loop": _python_loop_rate(),
        "engine": compiled.STATUS,
    }
