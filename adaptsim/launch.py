"""Whether this process was started by ``mpiexec``, and as which rank: read from the launcher's environment
(MPICH/Hydra or Open MPI) without importing mpi4py, which would initialise MPI in every serial run."""

from __future__ import annotations

import os


def launched_ranks() -> int:
    """Number of processes ``mpiexec`` started (from its environment: MPICH/Hydra or Open MPI), 1 otherwise.

    Read without importing mpi4py, which would initialise MPI in every serial run.
    """
    for variable in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        value = os.environ.get(variable, "")
        if value.isdigit():
            return int(value)
    return 1


def launched_rank() -> int:
    """This process's rank under ``mpiexec`` (0 otherwise)."""
    for variable in ("PMI_RANK", "OMPI_COMM_WORLD_RANK"):
        value = os.environ.get(variable, "")
        if value.isdigit():
            return int(value)
    return 0
