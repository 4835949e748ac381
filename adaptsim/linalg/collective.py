"""Sums and maxima over the ranks of an MPI communicator, or nothing for a serial run (``comm`` None).

The one place where the distributed linear algebra meets mpi4py's reductions (imported lazily, so that a
serial run never initialises MPI).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def summation(comm: Any) -> Callable[[Any], Any]:
    """``x -> sum over the ranks of x`` (the identity when ``comm`` is None); ``x`` a number or an array."""
    if comm is None:
        return lambda value: value
    from mpi4py import MPI

    def total(value: Any) -> Any:
        if np.ndim(value) == 0:
            return comm.allreduce(float(value), op=MPI.SUM)
        local = np.ascontiguousarray(value, dtype=float)
        result = np.empty_like(local)
        comm.Allreduce(local, result, op=MPI.SUM)
        return result

    return total


def maximum(comm: Any) -> Callable[[float], float]:
    """``x -> max over the ranks of the number x`` (the identity when ``comm`` is None)."""
    if comm is None:
        return lambda value: value
    from mpi4py import MPI

    return lambda value: comm.allreduce(float(value), op=MPI.MAX)
