"""The process under ``mpiexec``: whether it was launched so and as which rank (read from the launcher's
environment, MPICH/Hydra or Open MPI, without importing mpi4py, which would initialise MPI in every serial
run), its share of the node's cores, its peak memory, and the policy that ends the whole job when one rank fails; and the thread
limit of the dense linear algebra where its problems are small.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from adaptsim.errors import CaseError, InputError, RunError

#: The user-facing errors that the distributed runners raise on every rank at once (see :func:`abort_on_error`).
COLLECTIVE_ERRORS: tuple[type[BaseException], ...] = (CaseError, InputError, RunError)


def launched_ranks() -> int:
    """Number of processes ``mpiexec`` started (from its environment: MPICH/Hydra or Open MPI), 1 otherwise.

    Read without importing mpi4py, which would initialise MPI in every serial run.
    """
    for variable in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        value = os.environ.get(variable, "")
        if value.isdigit():
            return int(value)
    return 1


def launched_local_ranks() -> int:
    """Number of the launched processes on this machine (MPICH/Hydra's ``MPI_LOCALNRANKS``, Open MPI's
    ``OMPI_COMM_WORLD_LOCAL_SIZE``; all of them when the launcher does not say)."""
    for variable in ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"):
        value = os.environ.get(variable, "")
        if value.isdigit():
            return int(value)
    return launched_ranks()


def launched_rank() -> int:
    """This process's rank under ``mpiexec`` (0 otherwise)."""
    for variable in ("PMI_RANK", "OMPI_COMM_WORLD_RANK"):
        value = os.environ.get(variable, "")
        if value.isdigit():
            return int(value)
    return 0


def share_cores(comm: Any, library: str = "openblas") -> Any:
    """Limit a threaded library to this rank's share of the node's cores (a threadpoolctl limiter: use it in a
    ``with`` block to restore the previous limit at its end).

    ``openblas`` (NumPy/SciPy's dense linear algebra) is limited for the whole run: every rank's BLAS would
    otherwise start one thread per core, and with two ranks on two cores the spinning threads made a dense
    QR 20x slower. ``mkl`` (PARDISO) only where every rank solves at once (training split by fields); the
    distributed solve runs on rank 0 alone while the other ranks wait without spinning (:func:`gathered_solve`).
    """
    import os

    from mpi4py import MPI
    from threadpoolctl import ThreadpoolController

    on_this_node = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()
    threads = max(1, len(os.sched_getaffinity(0)) // on_this_node)
    return ThreadpoolController().select(internal_api=library).limit(limits=threads)


def peak_memory_mb() -> float:
    """This process's peak resident memory so far (MB; what the kernel counted, every library's allocations in)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@cache
def _threadpools() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def serial_blas() -> Any:
    """Limit NumPy/SciPy's BLAS (OpenBLAS) to one thread, in a ``with`` block (the previous limit comes back at its end).

    For small dense algebra (matrices of a few hundred columns), threads cost more than they give, and right after a
    PARDISO solve MKL's OpenMP threads still spin on the cores: the online ROM's cubature update took 175 ms with two
    BLAS threads against 28 ms with one (default blade, 2 cores; ``python benchmarks/rom_online.py``). The other way
    round too: OpenBLAS's threads spin after a threaded call and slow PARDISO's next factorisation; the full model's
    Newton loop runs in this block, and a factorisation and solve of the default blade's tangent takes 15 ms instead
    of 40-50 ms (the blade's full model: 8.0 -> 4.9 s wall, ``adaptsim run cases/blade_hifi.yaml``, 2026-12-06).
    """
    return _threadpools().select(internal_api="openblas").limit(limits=1)


@contextmanager
def abort_on_error(comm: Any, collective: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Run a block on every rank; if it raises on one rank, print that rank's message and abort the whole job.

    Without this, the other ranks would wait forever in their next collective operation. The message goes to
    stderr as one line ``adaptsim: rank R: error``, then ``comm.Abort(1)`` ends every process (``mpiexec``
    exits non-zero). A one-rank communicator (or None) re-raises instead, so serial runs keep their normal errors.
    ``collective`` errors are raised by every rank at once by construction (decisions taken on summed or
    replicated data, such as a Newton failure after the last increment cut): they are re-raised, so that the
    command line reports them once, from rank 0, with their usual exit code.
    """
    try:
        yield
    except BaseException as error:
        if comm is None or comm.Get_size() == 1 or isinstance(error, collective):
            raise
        sys.stderr.write(f"adaptsim: rank {comm.Get_rank()}: {type(error).__name__}: {error}\n")
        sys.stderr.flush()
        comm.Abort(1)
