import numpy as np
import pytest

from nbody import initial_conditions as ic


@pytest.fixture
def figure_eight():
    return ic.figure_eight()


def rebound_simulation(system, integrator="ias15"):
    """A REBOUND simulation of the same system (G = 1)."""
    rebound = pytest.importorskip("rebound")
    simulation = rebound.Simulation()
    simulation.G = 1.0
    simulation.integrator = integrator
    for m, x, v in zip(system.masses, system.positions, system.velocities, strict=True):
        simulation.add(m=float(m), x=x[0], y=x[1], z=x[2], vx=v[0], vy=v[1], vz=v[2])
    return simulation


def rebound_positions(simulation):
    return np.array([[p.x, p.y, p.z] for p in simulation.particles])


def largest_difference_from_rebound(system, run):
    """Largest position difference between ``run`` and REBOUND's IAS15 at each of the run's snapshot times."""
    simulation = rebound_simulation(system)
    differences = []
    for index, t in enumerate(run.times):
        simulation.integrate(t, exact_finish_time=1)
        differences.append(np.abs(rebound_positions(simulation) - run.positions[index]).max())
    return max(differences)
