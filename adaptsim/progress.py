"""One progress and logging style for every long loop (rich).

Progress bars are drawn only on an interactive terminal; in pipes and log files (CI, rank 0 under
``mpiexec``, a batch job's output) a long loop prints a line every :data:`LINE_INTERVAL_S` seconds with the
fraction done, the time elapsed and the time left; ``ADAPTSIM_QUIET=1`` silences both. Log lines go to stderr.
The time left follows from the rate since the last compilation (:mod:`adaptsim.compilation`), and is not said
before that rate is known.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from adaptsim import compilation
from adaptsim.launch import launched_rank

T = TypeVar("T")

#: Seconds between two progress lines when the output is not a terminal.
LINE_INTERVAL_S = 10.0

_console: Console | None = None


def console() -> Console:
    """The shared stderr console."""
    global _console
    if _console is None or _console.file is not sys.stderr:
        _console = Console(stderr=True, highlight=False)
    return _console


def _silenced() -> bool:
    """``ADAPTSIM_QUIET`` set, or a rank other than 0 of an ``mpiexec`` job (rank 0 speaks for the job)."""
    return os.environ.get("ADAPTSIM_QUIET", "") not in ("", "0") or launched_rank() != 0


def is_quiet() -> bool:
    """True when bars must not be drawn: not a terminal, ``ADAPTSIM_QUIET`` set, or not rank 0 under mpiexec."""
    return _silenced() or not console().is_terminal


def log(message: str, *, style: str | None = None) -> None:
    """Print one log line (to stderr) in the suite's style, unless silenced (``ADAPTSIM_QUIET``, rank > 0)."""
    if not _silenced():
        console().print(f"[bold cyan]adaptsim[/] {message}", style=style, soft_wrap=True)


class ProgressBar:
    """A progress bar over a quantity that may be fractional (simulated time, increments).

    Drawn only when ``enabled`` and on a terminal. Use as a context manager::

        with ProgressBar("integrating", total=t_end, unit="t") as bar:
            while t < t_end:
                ...
                bar.update(t)
    """

    def __init__(self, description: str, total: float, *, unit: str = "", enabled: bool = True) -> None:
        self.description = description
        self.total = float(total)
        self.unit = unit
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._lines = False  # not on a terminal: a plain line every LINE_INTERVAL_S seconds instead of a bar
        self._done = self._last_done = 0.0
        self._started = self._last_line = 0.0
        self._compiled = 0.0  # seconds of compilation seen at the last update
        self._origin = (0.0, 0.0)  # (time, amount done) from which the rate is measured

    def __enter__(self) -> ProgressBar:
        self._started = self._last_line = time.monotonic()
        compilation.watch(_announce_compiling)
        self._compiled = compilation.compiling_seconds()
        self._origin = (self._started, 0.0)
        self._lines = self.enabled and not _silenced() and not console().is_terminal and self.total > 0
        if self.enabled and not is_quiet():
            columns = [
                TextColumn("[bold blue]{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn() if self.unit == "" and self.total.is_integer() else TextColumn(f"{self.unit}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            ]
            self._progress = Progress(*columns, console=console(), transient=False)
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def update(self, completed: float) -> None:
        """Set the amount done so far."""
        self._done = min(float(completed), self.total)
        compiled = compilation.compiling_seconds()
        if compiled != self._compiled:  # compiled since the last update: the rate is measured from here on
            self._compiled = compiled
            self._origin = (time.monotonic(), self._done)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self._done)
        self._maybe_line()

    def advance(self, amount: float = 1.0) -> None:
        """Add ``amount`` to the amount done."""
        self.update(self._done + amount)

    def _maybe_line(self, final: bool = False) -> None:
        """In a pipe or a log file (e.g. rank 0 under mpiexec): a line with the fraction done, the time elapsed and
        the time left, at most every :data:`LINE_INTERVAL_S` seconds, and a last one for a run that printed any."""
        if not self._lines:
            return
        now = time.monotonic()
        if not final and now - self._last_line < LINE_INTERVAL_S:
            return
        if final and (self._last_line == self._started or self._last_done == self._done):
            return  # short (the bar would not have been worth a line), or this state was just said
        self._last_line, self._last_done = now, self._done
        elapsed = now - self._started
        fraction = self._done / self.total
        since, done_then = self._origin
        left = ""
        if 0.0 < fraction < 1.0 and self._done > done_then and now > since:
            left = f", about {_clock((now - since) * (self.total - self._done) / (self._done - done_then))} left"
        amount = f"{self._done:.6g} of {self.total:.6g}{(' ' + self.unit) if self.unit else ''}"
        log(f"{self.description}: {100.0 * fraction:.0f}% ({amount}), {_clock(elapsed)} elapsed{left}")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        if exc[0] is None:
            self._maybe_line(final=True)


def _announce_compiling() -> None:
    log("compiling (first run only: the compiled code is kept on disk for the next runs)")


def _clock(seconds: float) -> str:
    """``h:mm:ss``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar (silent when not on a terminal)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with ProgressBar(description, total=float(total or 0)) as bar:
        for item in items:
            yield item
            bar.advance()
