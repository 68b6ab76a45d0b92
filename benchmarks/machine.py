"""A description of the machine a benchmark ran on, so a figure is never read without its context."""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime

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


def describe_machine() -> dict[str, str]:
    """CPU, cores, memory, OS and Python of this run, plus when it ran (KST)."""
    return {
        "date": datetime.now(KST).strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
    }
