"""The memory a case will need, checked against what this machine has before anything is allocated."""

from __future__ import annotations

import os

#: Fraction of the available memory a run may plan to use (the rest is the interpreter, libraries, the OS).
USABLE_FRACTION = 0.8


def available_bytes() -> int:
    """Memory available to a new allocation now (``MemAvailable``; the physical memory when unknown)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil is a dependency
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def size_text(n_bytes: float) -> str:
    """``n_bytes`` in GiB or MiB."""
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


def check_memory(needed: float, what: str) -> None:
    """Raise ``ValueError`` when ``needed`` bytes for ``what`` do not fit this machine's available memory."""
    available = available_bytes()
    if needed > USABLE_FRACTION * available:
        raise ValueError(f"{what} need about {size_text(needed)}; this machine has {size_text(available)} available")
