"""Material coefficients as functions of temperature: a constant, or a table interpolated linearly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adaptsim.errors import InputError


@dataclass(frozen=True)
class TemperatureTable:
    """A coefficient tabulated at increasing temperatures, linearly interpolated between them.

    A single value (one temperature, or ``temperatures=None``) is constant at every temperature.
    Evaluating outside ``[temperatures[0], temperatures[-1]]`` raises a :class:`~adaptsim.errors.InputError` that names the
    coefficient and its range: extrapolating material data silently is how a solver returns nonsense.

    Parameters
    ----------
    name
        Name of the coefficient, used in error messages (e.g. ``"material.young"``).
    values
        Values at the temperatures.
    temperatures
        Increasing temperatures (K), or None for a constant.
    """

    name: str
    values: tuple[float, ...]
    temperatures: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
            raise InputError("needs one or more finite values", (*self.name.split("."),))
        if self.temperatures is not None:
            temps = np.asarray(self.temperatures, dtype=float)
            if temps.shape != values.shape:
                raise InputError(f"{temps.size} temperatures for {values.size} values", (*self.name.split("."),))
            if not np.all(np.isfinite(temps)) or np.any(np.diff(temps) <= 0.0):
                raise InputError("temperatures must be finite and strictly increasing", (*self.name.split("."),))

    @classmethod
    def constant(cls, name: str, value: float) -> TemperatureTable:
        """A coefficient that does not depend on temperature."""
        return cls(name, (float(value),))

    @property
    def is_constant(self) -> bool:
        """True when the coefficient has one value."""
        return len(self.values) == 1

    @property
    def minimum(self) -> float:
        """The smallest tabulated value."""
        return float(min(self.values))

    def __call__(self, temperature: np.ndarray) -> np.ndarray:
        """The coefficient at ``temperature`` (any shape)."""
        temperature = np.asarray(temperature, dtype=float)
        if self.temperatures is None or self.is_constant:
            return np.full(temperature.shape, self.values[0])
        low, high = self.temperatures[0], self.temperatures[-1]
        t_min, t_max = float(np.min(temperature)), float(np.max(temperature))
        slack = 1e-9 * max(abs(low), abs(high))  # round-off of interpolated temperatures at the table's ends
        if not (low - slack <= t_min and t_max <= high + slack):
            bad = t_min if t_min < low - slack else t_max
            raise InputError(f"temperature {bad:g} K is outside the table's range [{low:g}, {high:g}] K", (*self.name.split("."),))
        return np.interp(temperature, self.temperatures, self.values)
