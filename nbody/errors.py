"""The error of the ``nbody`` API: a bad argument, named by its path (the case layer maps it to a case's field)."""

from __future__ import annotations

from adaptsim.errors import InputError


class ArgumentError(InputError):
    """A bad argument of a function or class of :mod:`nbody` (masses, a step parameter, radii, ...).

    ``argument`` (the error's ``where``) is the path of the offending argument, e.g. ``("masses", 2)`` or ``("tol",)``;
    ``str(error)`` starts with it (``masses[2]: must be positive, got -1.0``).
    """

    @property
    def argument(self) -> tuple[str | int, ...]:
        """The path of the offending argument."""
        return self.where
