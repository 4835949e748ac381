"""Temperature-dependent small-strain constitutive laws (elastic, elasto-viscoplastic)."""

from rom.materials.laws import Coefficients, ConstitutiveResult, ElasticMaterial, LocalConvergenceError, MaterialState, ViscoplasticMaterial
from rom.materials.tables import TemperatureTable

__all__ = [
    "Coefficients",
    "ConstitutiveResult",
    "ElasticMaterial",
    "LocalConvergenceError",
    "MaterialState",
    "TemperatureTable",
    "ViscoplasticMaterial",
]
