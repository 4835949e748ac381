"""Temperature-dependent small-strain constitutive laws (elastic, elasto-viscoplastic)."""

from rom.materials.laws import ConstitutiveResult, ElasticMaterial, LocalConvergenceError, MaterialState, ViscoplasticMaterial
from rom.materials.tables import TemperatureTable

__all__ = ["ConstitutiveResult", "ElasticMaterial", "LocalConvergenceError", "MaterialState", "TemperatureTable", "ViscoplasticMaterial"]
