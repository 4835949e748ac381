"""Orthogonality utilities shared by the POD bases and the agents' neural networks.

:mod:`adaptsim.linalg.orthogonal` needs only NumPy/SciPy; :mod:`adaptsim.linalg.nn` imports
torch lazily, inside its functions.
"""

from adaptsim.linalg.orthogonal import (
    GramSchmidtResult,
    cholesky_qr2,
    gram_schmidt,
    orthogonality_defect,
    orthonormal_complement,
    random_orthogonal,
)

__all__ = [
    "GramSchmidtResult",
    "cholesky_qr2",
    "gram_schmidt",
    "orthogonality_defect",
    "orthonormal_complement",
    "random_orthogonal",
]
