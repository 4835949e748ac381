"""The one Numba configuration of the package.

``error_model="numpy"``: a division by zero gives inf or NaN (e.g. ``r / v`` for two bodies with
equal velocities) instead of raising, as in C. ``cache=True`` keeps compiled code between runs.
"""

import numba


def jit(function):
    """Compile ``function`` in nopython mode with the package settings."""
    return numba.njit(cache=True, error_model="numpy")(function)


def parallel_jit(function):
    """Compile ``function`` with ``parallel=True`` (for ``numba.prange`` loops)."""
    return numba.njit(cache=True, error_model="numpy", parallel=True)(function)
