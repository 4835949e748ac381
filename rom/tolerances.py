"""The tolerances of the adaptive ROM, with the one set of defaults (the ``rom_online`` case's defaults are these)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Tolerances:
    """POD truncation (displacement, dual quantities), cubature, and the indicator's enrichment threshold."""

    displacement: float = 1e-5
    dual: float = 1e-5
    cubature: float = 1e-6
    indicator: float = 0.003
