"""Run under ``mpiexec -n P``: distributed TSQR and CholeskyQR2 against a serial QR; rank 0 prints JSON."""

import json
import sys

import numpy as np
from mpi4py import MPI

from adaptsim.linalg.tsqr import distributed_cholesky_qr2, tsqr


def test_matrix(rows: int, columns: int, condition: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.normal(size=(rows, columns)))[0]
    v = np.linalg.qr(rng.normal(size=(columns, columns)))[0]
    return u @ np.diag(np.logspace(0, -np.log10(condition), columns)) @ v.T


def main() -> None:
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    report = {}
    for condition in (1.0, 1e4, 1e7):
        a = test_matrix(1000, 12, condition, seed=7)
        # uneven blocks: rank r gets a share proportional to r + 1
        bounds = np.round(np.cumsum([0] + [r + 1 for r in range(size)]) / (size * (size + 1) / 2) * a.shape[0]).astype(int)
        block = a[bounds[rank] : bounds[rank + 1]]
        serial_r = np.linalg.qr(a)[1]
        serial_r *= np.where(np.diag(serial_r) < 0, -1.0, 1.0)[:, None]
        for name, method in (("tsqr", tsqr), ("cholesky_qr2", distributed_cholesky_qr2)):
            q_block, r = method(block, comm)
            q = np.vstack(comm.allgather(q_block))
            report[f"{name} {condition:g}"] = {
                "defect": float(np.linalg.norm(q.T @ q - np.eye(12))),
                "residual": float(np.linalg.norm(q @ r - a) / np.linalg.norm(a)),
                "r_difference": float(np.abs(r - serial_r).max() / np.abs(serial_r).max()),
                "r_equal_on_ranks": bool(all(np.array_equal(r, other) for other in comm.allgather(r))),
            }
    if rank == 0:
        json.dump({"ranks": size, **report}, sys.stdout)


if __name__ == "__main__":
    main()
