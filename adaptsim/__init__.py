"""adaptsim: adaptive scientific simulation.

The top-level package holds what every simulator shares: YAML case files and their
validation (:mod:`adaptsim.cases`), HDF5 result files (:mod:`adaptsim.results`), one
progress style (:mod:`adaptsim.progress`), user-facing errors (:mod:`adaptsim.errors`)
and the orthogonality utilities (:mod:`adaptsim.linalg`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("adaptsim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
