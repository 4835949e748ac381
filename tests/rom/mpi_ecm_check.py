"""Run under ``mpiexec -n P``: empirical cubature with the integration points split over the ranks against the
serial one; rank 0 prints JSON."""

import json
import sys

import numpy as np
from blade_training import train_blade  # this script's folder is on sys.path
from mpi4py import MPI

from rom.hyperreduction import empirical_cubature
from rom.online import force_integrands
from rom.parallel.partition import partition_elements
from rom.pod import pod


def main() -> None:
    comm = MPI.COMM_WORLD
    training = train_blade("[4,1,5]")
    mesh, space, increments = training.mesh, training.space, training.increments
    modes = pod(training.displacements, training.mass, 1e-5).modes
    integrands = force_integrands(space, [inc.stress for inc in increments], modes)
    weights = space.weights.ravel()
    serial = empirical_cubature(integrands, weights, 1e-6)
    per_element = space.weights.shape[1]
    labels = np.repeat(partition_elements(mesh, comm.Get_size()), per_element)
    mine = np.flatnonzero(labels == comm.Get_rank())
    distributed = empirical_cubature(integrands[mine], weights[mine], 1e-6, comm=comm, point_ids=mine)
    exact = integrands.T @ weights
    integral = integrands[distributed.points].T @ distributed.weights
    same = sorted(serial.points.tolist()) == sorted(distributed.points.tolist())
    order_s, order_d = np.argsort(serial.points), np.argsort(distributed.points)
    if comm.Get_rank() == 0:
        json.dump(
            {
                "ranks": comm.Get_size(),
                "n_points": [int(serial.size), int(distributed.size)],
                "same_points": same,
                "weight_difference": float(np.abs(serial.weights[order_s] - distributed.weights[order_d]).max() / serial.weights.max())
                if same
                else None,
                "integral_error": float(np.linalg.norm(integral - exact) / np.linalg.norm(exact)),
                "integral_difference": float(
                    np.linalg.norm(integral - integrands[serial.points].T @ serial.weights) / np.linalg.norm(exact)
                ),
                "serial_integral_error": float(
                    np.linalg.norm(integrands[serial.points].T @ serial.weights - exact) / np.linalg.norm(exact)
                ),
            },
            sys.stdout,
        )


if __name__ == "__main__":
    main()
