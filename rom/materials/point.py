"""A material-point driver: one integration point under uniaxial stress or strain control.

The other five stress components are kept at zero by Newton iterations on the matching strain
components using the material's consistent tangent, so the driver both exercises the law the way the
finite-element solver does and reproduces the closed-form uniaxial creep and relaxation solutions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rom.materials.laws import ElasticMaterial, MaterialState

_LATERAL = np.arange(1, 6)


@dataclass
class PointHistory:
    """Axial strain and stress, cumulated plasticity and Newton iterations at each time."""

    time: np.ndarray
    strain: np.ndarray
    stress: np.ndarray
    cumulated_plasticity: np.ndarray
    iterations: np.ndarray


def uniaxial(
    material: ElasticMaterial,
    times: np.ndarray,
    temperature: np.ndarray | float,
    *,
    stress: np.ndarray | None = None,
    strain: np.ndarray | None = None,
    tolerance: float = 1e-10,
    max_iterations: int = 25,
) -> PointHistory:
    """Drive one point through a uniaxial history: axial ``stress`` or axial ``strain`` given at ``times``.

    Parameters
    ----------
    material
        The constitutive law.
    times
        Increasing times (s), starting at the initial state (index 0 is the virgin state at ``times[0]``).
    temperature
        Temperature (K) at each time, or one value.
    stress, strain
        Exactly one of them: the prescribed axial component at each time.
    """
    if (stress is None) == (strain is None):
        raise ValueError("give exactly one of stress or strain")
    times = np.asarray(times, dtype=float)
    temps = np.broadcast_to(np.asarray(temperature, dtype=float), times.shape)
    controlled = np.asarray(stress if stress is not None else strain, dtype=float)
    free = _LATERAL if stress is None else np.arange(6)
    state = MaterialState.zeros(1)
    eps = np.zeros((1, 6))
    out: dict[str, list[float]] = {"strain": [0.0], "stress": [0.0], "p": [0.0], "it": [0]}
    for i in range(1, times.size):
        dt = times[i] - times[i - 1]
        target = np.zeros(6)
        if stress is not None:
            target[0] = controlled[i]
        else:
            eps[0, 0] = controlled[i]
        for iteration in range(1, max_iterations + 1):  # noqa: B007 - the count is recorded after the loop
            result = material.update(eps, temps[i : i + 1], dt, state)
            residual = result.stress[0, free] - target[free]
            scale = max(1.0, np.abs(result.stress[0]).max(), np.abs(result.tangent[0]).max() * np.abs(eps).max())
            if np.linalg.norm(residual) <= tolerance * scale:
                break
            eps[0, free] -= np.linalg.solve(result.tangent[0][np.ix_(free, free)], residual)
        else:
            raise RuntimeError(f"material point did not converge at t = {times[i]:g}")
        state = result.state
        out["strain"].append(eps[0, 0])
        out["stress"].append(result.stress[0, 0])
        out["p"].append(state.cumulated_plasticity[0])
        out["it"].append(iteration)
    return PointHistory(times, np.array(out["strain"]), np.array(out["stress"]), np.array(out["p"]), np.array(out["it"]))
