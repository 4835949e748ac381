"""Run under ``mpiexec -n 2``: rank 1 fails while rank 0 waits in a collective; the job must end, non-zero."""

from mpi4py import MPI

from adaptsim.launch import abort_on_error

comm = MPI.COMM_WORLD
with abort_on_error(comm):
    if comm.Get_rank() == 1:
        raise RuntimeError("the constitutive update diverged on rank 1")
    comm.allreduce(1.0)  # would hang forever without the abort
