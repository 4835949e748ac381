"""The tolerances of the adaptive ROM, with the one set of defaults (the ``rom_online`` case's defaults are these)."""

from __future__ import annotations

from dataclasses import dataclass, fields

#: Default online tolerance: enrich when the estimated relative error exceeds it (an argument of the online run,
#: :class:`rom.online.AdaptiveROM`, not a property of the offline ROM).
ENRICHMENT_TOLERANCE = 0.003

#: An enrichment updates the cubature to this fraction of the online tolerance (or to the offline ROM's cubature
#: tolerance if that is looser): integrating the new force integrands 100x more accurately than the error the run
#: allows, not at the offline 1e-6, bounds how many points the enrichments of a campaign add (measured in docs/rom.md).
ENRICHMENT_CUBATURE_FRACTION = 0.01

#: The reduced Newton iterations stop at this fraction of the online tolerance (relative residual; or at the full
#: model's Newton tolerance if that is looser): a reduced solution converged 1000x below the error the run allows.
#: Converging further buys nothing the estimate could see, and costs a fourth constitutive update in most increments
#: (the residual falls like 1, 1e-2, 1e-6, 1e-12 there; measured in docs/rom.md).
REDUCED_NEWTON_FRACTION = 1e-3


@dataclass
class Tolerances:
    """How the offline ROM is built (and extended by enrichment): POD truncation (displacement, dual quantities) and
    the cubature's relative integration error."""

    displacement: float = 1e-5
    dual: float = 1e-5
    cubature: float = 1e-6

    @classmethod
    def from_mapping(cls, values: dict) -> Tolerances:
        """The tolerances named in ``values`` (others, as an older ROM file's indicator tolerance, are ignored)."""
        names = {field.name for field in fields(cls)}
        return cls(**{name: float(value) for name, value in values.items() if name in names})
