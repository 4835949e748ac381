"""Errors meant for users, and the exit codes the command line maps them to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

#: Exit code for bad input (case file, command-line options): nothing was computed.
EXIT_BAD_INPUT = 2
#: Exit code for a run that started and then failed (e.g. a solver that cannot recover).
EXIT_RUN_FAILED = 1
#: Exit code after Ctrl-C.
EXIT_INTERRUPTED = 130


def format_field_path(path: Sequence[str | int]) -> str:
    """Join a field path such as ``("integrator", "eta")`` or ``("masses", 2)`` into ``integrator.eta`` / ``masses[2]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def first_line(error: BaseException, limit: int | None = 200, text: str | None = None) -> str:
    r"""The first line of an exception's message (or of ``text``), at most ``limit`` characters; the exception's type
    name when there is none. Libraries (h5py, meshio, torch) put whole reports in their messages; a user gets one line.

    >>> first_line(ValueError("bad value\n  details"))
    'bad value'
    >>> first_line(KeyError())
    'KeyError'
    """
    lines = (str(error) if text is None else text).strip().splitlines()
    line = lines[0] if lines else type(error).__name__
    return line if limit is None else line[:limit]


class CaseError(ValueError):
    """Bad input in a case file or on the command line.

    Parameters
    ----------
    message
        What is wrong, in words a user understands.
    source
        The file (or ``"--set"``) the input came from, if known.
    field
        The path of the offending field inside the case, e.g. ``("initial_conditions", "t_end")``.
    """

    def __init__(self, message: str, *, source: str | None = None, field: Sequence[str | int] = ()) -> None:
        self.message = message
        self.source = source
        self.field = tuple(field)
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.source, format_field_path(self.field)) if p]
        return ": ".join([*parts, self.message])


class InputError(ValueError):
    """Bad input met by a numerical layer (an argument, a mesh, a table, an expression, a ROM file) that knows nothing of
    case files: ``where`` names the offending part as the caller named it (e.g. ``("masses", 2)``), and ``str(error)``
    starts with it. The command line reports it in one line with exit code 2, as a :class:`CaseError`; the case layer
    puts it under a case's field with :func:`case_field`.

    Parameters
    ----------
    message
        What is wrong.
    where
        The path of the offending part, if any.
    """

    def __init__(self, message: str, where: Sequence[str | int] = ()) -> None:
        self.message = message
        self.where = tuple(where)
        path = format_field_path(self.where)
        super().__init__(f"{path}: {message}" if path else message)


@contextmanager
def case_field(*field: str | int) -> Iterator[None]:
    """Inside, an :class:`InputError` becomes a :class:`CaseError` at the case's ``field`` followed by the error's own
    ``where`` (``with case_field("mesh", "file"): read_mesh(path)``)."""
    try:
        yield
    except InputError as error:
        raise CaseError(error.message, field=(*field, *error.where)) from None


class RunError(Exception):
    """A run that was valid but could not complete (divergence, solver failure); reported in one line."""
