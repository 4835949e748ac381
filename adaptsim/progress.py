"""One progress and logging style for every long loop (rich).

Progress bars are drawn only on an interactive terminal; in pipes, CI logs, notebooks run
by tests, or with ``ADAPTSIM_QUIET=1``, they are silent. Log lines go to stderr.
"""

from __future__ import annotations

import os
import sys
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

from adaptsim.launch import launched_rank

T = TypeVar("T")

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

    def __enter__(self) -> ProgressBar:
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
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=min(float(completed), self.total))

    def advance(self, amount: float = 1.0) -> None:
        """Add ``amount`` to the amount done."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar (silent when not on a terminal)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with ProgressBar(description, total=float(total or 0)) as bar:
        for item in items:
            yield item
            bar.advance()
