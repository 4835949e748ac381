"""NumPy's floating-point warnings of a run ("overflow encountered in multiply"), collected instead of printed.

Printed as they come, each is two raw lines of Python's warning format in the middle of the run's log, before the
one-line message of a failure they usually explain. Collected, they become part of that message, or one log line
each after a run that completes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

#: How many of the collected warnings a failure's message quotes.
QUOTED = 2


def _is_floating_point(message: Warning | str, category: type[Warning]) -> bool:
    return issubclass(category, RuntimeWarning) and " encountered in " in str(message)


def _where(filename: str) -> str:
    """``package/module.py`` of a file path (the last two parts)."""
    return "/".join(Path(filename).parts[-2:])


@contextmanager
def collected() -> Iterator[list[str]]:
    """Collect the block's floating-point warnings as distinct lines ``"overflow encountered in multiply
    (materials/tensors.py:29)"``, in order; every other warning is shown as before."""
    seen: list[str] = []
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(
            message: Warning | str, category: type[Warning], filename: str, lineno: int, file: TextIO | None = None, line: str | None = None
        ) -> None:
            if not _is_floating_point(message, category):
                shown(message, category, filename, lineno, file, line)
                return
            text = f"{message} ({_where(filename)}:{lineno})"
            if text not in seen:
                seen.append(text)

        warnings.showwarning = show
        yield seen


def summary(seen: list[str]) -> str:
    """The first :data:`QUOTED` warnings, and how many more, for a one-line message."""
    more = f" and {len(seen) - QUOTED} more" if len(seen) > QUOTED else ""
    return "; ".join(seen[:QUOTED]) + more
