"""The error of the ``nbody`` API: a bad argument, named by its path (the case layer maps it to a case's field)."""

from __future__ import annotations

from collections.abc import Sequence

from adaptsim.errors import format_field_path


class ArgumentError(ValueError):
    """A bad argument of a function or class of :mod:`nbody` (masses, a step parameter, radii, ...).

    Parameters
    ----------
    message
        What is wrong.
    argument
        The path of the offending argument, e.g. ``("masses", 2)`` or ``("tol",)``; ``str(error)`` starts with it
        (``masses[2]: must be positive, got -1.0``).
    """

    def __init__(self, message: str, argument: Sequence[str | int] = ()) -> None:
        self.message = message
        self.argument = tuple(argument)
        path = format_field_path(self.argument)
        super().__init__(f"{path}: {message}" if path else message)
