"""The one Numba configuration of the package, and the invalidation of its on-disk cache.

``error_model="numpy"``: a division by zero gives inf or NaN (e.g. ``r / v`` for two bodies with
equal velocities) instead of raising, as in C. ``cache=True`` keeps compiled code between runs.

Numba's cache of a function is keyed on its own file only, not on the files of the functions it
calls, so editing an integrator would leave a stale compiled loop in the cache. On import, the
sources of the package are hashed; when the hash changes, every cached file of the package is
removed before anything is compiled.
"""

import hashlib
from pathlib import Path

import numba

_PACKAGE = Path(__file__).resolve().parent


def _invalidate_stale_cache() -> None:
    sources = sorted(_PACKAGE.rglob("*.py"))
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()
    stamp = _PACKAGE / "__pycache__" / "numba_sources.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest:
            return
        for cached in [*_PACKAGE.rglob("__pycache__/*.nbi"), *_PACKAGE.rglob("__pycache__/*.nbc")]:
            cached.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only installation: its sources cannot change either
        pass


_invalidate_stale_cache()


def jit(function):
    """Compile ``function`` in nopython mode with the package settings."""
    return numba.njit(cache=True, error_model="numpy")(function)


def jit_inline(function):
    """:func:`jit`, inlined into its callers (for small helpers called in every step, e.g. work-array views)."""
    return numba.njit(cache=True, error_model="numpy", inline="always")(function)


def parallel_jit(function):
    """Compile ``function`` with ``parallel=True`` (for ``numba.prange`` loops)."""
    return numba.njit(cache=True, error_model="numpy", parallel=True)(function)
