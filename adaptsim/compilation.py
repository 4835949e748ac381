"""Say when Numba compiles, and keep the time it takes out of the progress's rate.

A first run compiles its kernels (seconds to a minute; Numba keeps them on disk for the next runs). Without a word,
a bar stands still meanwhile and the first rate, hence the time left, is wrong by orders of magnitude. Numba
announces every compilation (``numba:compile`` events, not sent for a kernel loaded from the cache); this module
listens to them once ``numba`` is imported: the first one calls the announcement :func:`watch` was given (the
progress module logs one line), and :func:`compiling_seconds` tells a progress bar how much of its time went into
compiling.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class _Compilations:
    installed: bool = False
    depth: int = 0  # compilations nest (a kernel compiles the functions it calls)
    started: float = 0.0
    total: float = 0.0
    announced: bool = False
    announce: Callable[[], None] | None = None


_SEEN = _Compilations()


def _on_start() -> None:
    if _SEEN.depth == 0:
        _SEEN.started = time.monotonic()
        if not _SEEN.announced and _SEEN.announce is not None:
            _SEEN.announced = True
            _SEEN.announce()
    _SEEN.depth += 1


def _on_end() -> None:
    _SEEN.depth -= 1
    if _SEEN.depth == 0:
        _SEEN.total += time.monotonic() - _SEEN.started


def watch(announce: Callable[[], None]) -> None:
    """Listen to Numba's compilations from now on, if Numba is imported (once per process; cheap to call again);
    ``announce()`` is called when the first one starts."""
    _SEEN.announce = announce
    if _SEEN.installed or "numba" not in sys.modules:
        return
    from numba.core import event

    class _Listener(event.Listener):
        def on_start(self, _event: Any) -> None:
            _on_start()

        def on_end(self, _event: Any) -> None:
            _on_end()

    event.register("numba:compile", _Listener())
    _SEEN.installed = True


def compiling_seconds() -> float:
    """Seconds spent compiling so far in this process (while watched), a compilation in progress included."""
    return _SEEN.total + (time.monotonic() - _SEEN.started if _SEEN.depth > 0 else 0.0)
