"""Run under ``mpiexec -n P``: distributed POD of blade snapshots against the serial POD; rank 0 prints JSON."""

import json
import sys

import numpy as np
from blade_training import train_blade  # this script's folder is on sys.path
from mpi4py import MPI

from rom.parallel.layout import distributed_pod
from rom.parallel.partition import Subdomain, partition_elements
from rom.pod import pod


def main() -> None:
    comm = MPI.COMM_WORLD
    training = train_blade("[4,1,5]")
    mesh, space, snapshots = training.mesh, training.space, training.displacements
    serial = pod(snapshots, training.mass, tolerance=1e-6)
    labels = partition_elements(mesh, comm.Get_size(), sys.argv[1] if len(sys.argv) > 1 else "auto")
    mine = Subdomain.of(mesh, labels, comm.Get_rank(), space.weights.shape[1])
    distributed = distributed_pod(snapshots[mine.dofs], comm, mine.mass_matrix(), tolerance=1e-6)
    # gather the modes by dof (interface rows are equal on every rank that holds them)
    modes = np.zeros_like(serial.modes[:, : distributed.n_modes])
    for dofs, rows in comm.allgather((mine.dofs, distributed.modes)):
        modes[dofs] = rows
    signs = np.sign(np.sum(modes * serial.modes[:, : distributed.n_modes], axis=0))
    if comm.Get_rank() == 0:
        kept = serial.n_modes
        json.dump(
            {
                "ranks": comm.Get_size(),
                "n_modes": [serial.n_modes, distributed.n_modes],
                "singular_value_difference": float(
                    np.abs(distributed.singular_values[:kept] - serial.singular_values[:kept]).max() / serial.singular_values[0]
                ),
                "mode_differences": (
                    np.abs(modes * signs - serial.modes[:, : distributed.n_modes]).max(axis=0) / np.abs(serial.modes).max()
                ).tolist(),
                "relative_singular_values": (serial.singular_values[:kept] / serial.singular_values[0]).tolist(),
                "elements_per_rank": np.bincount(labels).tolist(),
            },
            sys.stdout,
        )


if __name__ == "__main__":
    main()
