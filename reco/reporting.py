"""What every benchmark and evaluation report states: the machine, and progress as it goes."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"host": platform.node(), "cpu": model, "cores": os.cpu_count(),
            "memory_gib": round(memory_gib, 1), "python": platform.python_version()}


def progress(message: str) -> None:
    """A timestamped line on stderr (stdout stays for results)."""
    print(f"{time.strftime('%H:%M:%S')}  {message}", file=sys.stderr, flush=True)
