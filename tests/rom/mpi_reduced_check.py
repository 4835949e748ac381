"""Run under ``mpiexec -n P``: the hyper-reduced model with its points split over the ranks against the serial
model; rank 0 prints JSON."""

import json
import sys

import numpy as np
from blade_training import train_blade  # this script's folder is on sys.path
from mpi4py import MPI

from rom.hyperreduction import Cubature
from rom.indicator import GappyPOD
from rom.online import build_offline
from rom.parallel.partition import partition_elements
from rom.reduced import ReducedModel


def run(model, times, p_fit=None, gather=None):
    increment, coordinates, indicators = model.initial(), [], []
    for t in times:
        increment = model.step(increment, float(t))
        coordinates.append(increment.coordinates.copy())
        if p_fit is not None:
            indicators.append(p_fit.indicator(gather(increment.state.cumulated_plasticity)))
    return np.array(coordinates), np.array(indicators)


def main() -> None:
    comm = MPI.COMM_WORLD
    training = train_blade("[4,1,5]")
    mesh, space, problem, times = training.mesh, training.space, training.problem, training.times
    offline = build_offline(space, training.mass, training.increments)
    history = training.case.loading.history
    unit = offline.modes.T @ problem.external_force(history.times[1]) / history.factor(history.times[1])

    def model_for(points, weights, reduce=None):
        return ReducedModel(
            space,
            problem.material,
            offline.modes,
            Cubature(points, weights, 0.0),
            lambda t: history.factor(t) * unit,
            lambda t: problem.temperature_at_points(t)[points],
            reduce=reduce,
        )

    cubature = offline.cubature
    p_fit = GappyPOD(offline.p_modes, cubature.points)
    serial, serial_indicator = run(model_for(cubature.points, cubature.weights), times, p_fit, lambda p: p)
    labels = partition_elements(mesh, comm.Get_size())
    mine = np.flatnonzero(labels[cubature.points // space.weights.shape[1]] == comm.Get_rank())

    def gather(p_local):
        values = np.zeros(cubature.size)
        for indices, local in comm.allgather((mine, p_local)):
            values[indices] = local
        return values

    distributed, distributed_indicator = run(
        model_for(cubature.points[mine], cubature.weights[mine], lambda a: comm.allreduce(a, op=MPI.SUM)), times, p_fit, gather
    )
    points_per_rank = [int(n) for n in comm.allgather(mine.size)]
    if comm.Get_rank() == 0:
        json.dump(
            {
                "ranks": comm.Get_size(),
                "points_per_rank": points_per_rank,
                "trajectory_difference": float(np.abs(distributed - serial).max() / np.abs(serial).max()),
                "indicator_difference": float(
                    np.abs(distributed_indicator - serial_indicator).max() / max(np.abs(serial_indicator).max(), 1e-300)
                ),
                "n_points": int(cubature.size),
            },
            sys.stdout,
        )


if __name__ == "__main__":
    main()
