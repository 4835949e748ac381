"""Snapshots of a high-fidelity run (with checkpoints), VTU series for ParaView and the history plot."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from adaptsim.progress import log
from adaptsim.results import atomic_path
from rom.materials import MaterialState
from rom.materials.tensors import von_mises


class SnapshotRecorder:
    """Keeps every increment's displacement and integration-point fields; checkpoints them to resume.

    Parameters
    ----------
    checkpoint
        Path of the checkpoint file (written atomically every ``every`` increments).
    fingerprint
        Identifies the case; a checkpoint of another case is ignored.
    times
        End times of all increments.
    space
        Its ``n_dofs`` and ``n_points`` are the whole mesh's sizes (a displacement space, or a
        :class:`rom.parallel.layout.Layout`).
    every
        Increments between checkpoints.
    writer
        Whether this process writes the checkpoints (under MPI rank 0 only; every rank records and resumes).
    """

    def __init__(self, checkpoint: Path, fingerprint: str, times: np.ndarray, space, every: int, writer: bool = True) -> None:
        self.checkpoint, self.fingerprint, self.every, self.writer = Path(checkpoint), fingerprint, every, writer
        n, n_points = times.size, space.n_points
        self.time = np.asarray(times, dtype=float)
        self.displacement = np.zeros((n, space.n_dofs))
        self.cumulated_plasticity = np.zeros((n, n_points))
        self.stress = np.zeros((n, n_points, 6))
        self.backstress = np.zeros((n, n_points, 6))
        self.plastic_strain = np.zeros((n, n_points, 6))
        self.temperature = np.zeros((n, n_points))
        self.iterations = np.zeros(n, dtype=np.int64)
        self.cuts = np.zeros(n, dtype=np.int64)
        self.max_von_mises = np.zeros(n)
        self.next_index = 0
        self.elapsed = 0.0  # wall seconds spent on the recorded increments, over every resumed session

    def record(self, index: int, increment) -> None:
        """Store converged increment ``index`` (whole fields); checkpoint when due. ``None``: the increment is kept
        by another rank (under MPI rank 0 holds the gathered fields), only the count advances."""
        if increment is None:
            self.next_index = index + 1
            return
        self.displacement[index] = increment.displacement
        self.cumulated_plasticity[index] = increment.state.cumulated_plasticity
        self.stress[index] = increment.stress
        self.backstress[index] = increment.state.backstress
        self.plastic_strain[index] = increment.state.plastic_strain
        self.temperature[index] = increment.temperature
        self.iterations[index] = increment.newton_iterations
        self.cuts[index] = increment.cuts
        self.max_von_mises[index] = von_mises(increment.stress).max()
        self.next_index = index + 1
        if self.writer and self.next_index % self.every == 0 and self.next_index < self.time.size:
            self.save()

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "displacement": self.displacement,
            "cumulated_plasticity": self.cumulated_plasticity,
            "stress": self.stress,
            "backstress": self.backstress,
            "plastic_strain": self.plastic_strain,
            "temperature": self.temperature,
            "newton_iterations": self.iterations,
            "increment_cuts": self.cuts,
            "max_von_mises": self.max_von_mises,
        }

    @property
    def previous(self) -> Path:
        """The checkpoint before the newest one, kept to resume from when the newest cannot be read."""
        return self.checkpoint.with_name(f"{self.checkpoint.stem}.previous{self.checkpoint.suffix}")

    def save(self) -> None:
        """Write the checkpoint atomically, keeping the one before as :attr:`previous`."""
        if self.checkpoint.is_file():
            os.replace(self.checkpoint, self.previous)
        with atomic_path(self.checkpoint) as temporary, open(temporary, "wb") as handle:
            arrays: dict[str, Any] = {
                "fingerprint": self.fingerprint,
                "next_index": self.next_index,
                "elapsed": self.elapsed,
                **self._arrays(),
            }
            np.savez(handle, **arrays)

    def resume(self, initial):
        """The increment to start from: the last one of the newest readable checkpoint of this case (whole fields),
        else ``initial``. An unreadable checkpoint is skipped with one line; one of another case is ignored."""
        for path in (self.checkpoint, self.previous):
            if not path.is_file():
                continue
            try:
                with np.load(path, allow_pickle=False) as saved:
                    if (
                        set(self._arrays()) - set(saved.files)
                        or str(saved["fingerprint"]) != self.fingerprint
                        or saved["displacement"].shape != self.displacement.shape
                    ):
                        return initial
                    loaded = {name: saved[name] for name in self._arrays()}
                    next_index = int(saved["next_index"])
                    elapsed = float(saved["elapsed"]) if "elapsed" in saved.files else 0.0
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
                log(f"checkpoint {path.name} cannot be read ({type(error).__name__}); trying the previous one")
                continue
            for name, array in self._arrays().items():
                array[...] = loaded[name]
            self.next_index, self.elapsed = next_index, elapsed
            return self.increment(self.next_index - 1)
        return initial

    @property
    def complete(self) -> bool:
        """Whether every increment is recorded."""
        return self.next_index == self.time.size

    def increment(self, index: int):
        """Recorded increment ``index`` as a whole-mesh :class:`rom.hifi.Increment` (copies)."""
        from rom.hifi import Increment

        state = MaterialState(self.plastic_strain[index].copy(), self.backstress[index].copy(), self.cumulated_plasticity[index].copy())
        return Increment(
            self.time[index],
            self.displacement[index].copy(),
            state,
            self.stress[index].copy(),
            self.temperature[index].copy(),
            int(self.iterations[index]),
            int(self.cuts[index]),
        )

    def datasets(self) -> dict[str, np.ndarray]:
        """The snapshot datasets of the result file."""
        return {"time": self.time, **self._arrays()}

    def discard(self) -> None:
        """Remove the checkpoints (after the result file is written)."""
        self.checkpoint.unlink(missing_ok=True)
        self.previous.unlink(missing_ok=True)


def cell_average(mesh, values: np.ndarray) -> np.ndarray:
    """Average of integration-point values (n_points,) over each element's points (``mesh``: their elements)."""
    return values.reshape(mesh.n_cells, -1).mean(axis=1)


def write_series(ctx, mesh, recorder: SnapshotRecorder, indices: list[int]) -> list[Path]:
    """VTU files ``blade_NNNN.vtu`` of the chosen increments and a ParaView collection ``blade.pvd``."""
    from rom.mesh import write_vtu

    paths = []
    for index in indices:
        path = ctx.out_dir / f"blade_{index:04d}.vtu"
        nodal_temperature = np.zeros(mesh.n_nodes)
        weights = np.zeros(mesh.n_nodes)
        per_point = recorder.temperature[index].reshape(mesh.n_cells, -1)
        np.add.at(nodal_temperature, mesh.cells, per_point.mean(axis=1)[:, None])
        np.add.at(weights, mesh.cells, 1.0)
        write_vtu(
            path,
            mesh,
            {"displacement": recorder.displacement[index].reshape(-1, 3), "temperature": nodal_temperature / weights},
            {
                "von_mises": cell_average(mesh, von_mises(recorder.stress[index])),
                "cumulated_plasticity": cell_average(mesh, recorder.cumulated_plasticity[index]),
            },
        )
        paths.append(path)
    if paths:
        entries = "\n".join(
            f'    <DataSet timestep="{recorder.time[i]:.12g}" file="{p.name}"/>' for i, p in zip(indices, paths, strict=True)
        )
        collection = ctx.out_dir / "blade.pvd"
        with atomic_path(collection) as temporary:
            temporary.write_text(
                f'<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1">\n  <Collection>\n{entries}\n  </Collection>\n</VTKFile>\n'
            )
        paths.append(collection)
    ctx.artifacts.extend(paths)
    return paths


def plot_history(recorder: SnapshotRecorder, history):
    """Load factor and maximum cumulated plasticity against time."""
    import matplotlib.pyplot as plt

    figure, load_axis = plt.subplots(figsize=(7, 4))
    fine = np.linspace(0.0, history.times[-1], 400)
    load_axis.plot(fine, [history.factor(t) for t in fine], color="tab:blue", label="load factor")
    load_axis.set_xlabel("time (s)")
    load_axis.set_ylabel("load factor", color="tab:blue")
    plastic_axis = load_axis.twinx()
    plastic_axis.plot(recorder.time, recorder.cumulated_plasticity.max(axis=1), "o-", color="tab:red", ms=3, label="max p")
    plastic_axis.set_ylabel("max cumulated plasticity p", color="tab:red")
    load_axis.set_title("load history and cumulated plasticity")
    figure.tight_layout()
    return figure
