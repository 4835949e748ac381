"""The one Numba configuration of the package, the invalidation of its on-disk cache, borrowed arrays and views.

``error_model="numpy"``: a division by zero gives inf or NaN (e.g. ``r / v`` for two bodies with
equal velocities) instead of raising, as in C. ``cache=True`` keeps compiled code between runs.

Numba's cache of a function is keyed on its own file only, not on the files of the functions it
calls, so editing an integrator would leave a stale compiled loop in the cache. On import, the
sources of the package are hashed; when the hash changes, every cached file of the package is
removed before anything is compiled (under a file lock, so that processes importing at once do it once).
Each variant of a closure (a lane step per number of bodies, a kernel per menu) gets a cache file of its own
(:func:`own_cache_file`): in one shared file, processes compiling different variants at once could map one variant
to another's code.

:data:`borrowed` views an array without holding a reference: the time loop works on borrowed views of its arrays,
so that passing them to the step function at every step costs no reference counting. :data:`c_view` views a
C-contiguous array with another shape without the C helper that Numba's ``reshape`` calls.
"""

import fcntl
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from types import FunctionType
from typing import Any, cast

import numba
import numpy as np
from numba import types
from numba.core import cgutils, serialize
from numba.core.errors import TypingError
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic

_PACKAGE = Path(__file__).resolve().parent


def _invalidate_stale_cache(package: Path = _PACKAGE) -> bool:
    """Remove the cached compiled files of ``package`` when its sources changed since the last import; returns
    whether it did.

    Under an exclusive lock (``__pycache__/numba_sources.lock``): processes that import the package at once (e.g.
    ``pytest -n 2`` after an edit) check and invalidate one after the other, so none deletes what another compiled
    after seeing the new sources. The stamp is replaced atomically.
    """
    sources = sorted(package.rglob("*.py"))
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()
    cache = package / "__pycache__"
    stamp = cache / "numba_sources.sha256"
    try:
        cache.mkdir(exist_ok=True)
        with open(cache / "numba_sources.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # (released when the file closes)
            if stamp.exists() and stamp.read_text() == digest:
                return False
            for cached in [*package.rglob("__pycache__/*.nbi"), *package.rglob("__pycache__/*.nbc")]:
                cached.unlink(missing_ok=True)
            written = stamp.with_name(f"{stamp.name}.{os.getpid()}")
            written.write_text(digest)
            os.replace(written, stamp)
            return True
    except OSError:  # a read-only installation: its sources cannot change either
        return False


_invalidate_stale_cache()


def own_cache_file(function):
    """``function``; a closure is renamed after a digest of the values it closes over, so that each variant of one
    source function (a lane step per number of bodies, a kernel per menu, ...) has a cache file of its own.

    Numba keeps every variant of a function in one index file and names a new variant's data file after the first
    number that the index it last read does not use: two processes compiling different variants at once (``pytest
    -n 2``, MPI ranks, training workers) both write data file 1, and the index then maps one variant to the other's
    code, which every later process loads (seen in CI: IAS15's adaptive lane step ran the fixed-step one's code).
    With one variant per file, processes that compile at once compile the same code."""
    if function.__closure__:
        cells = tuple(cell.cell_contents for cell in function.__closure__)
        function.__qualname__ += "." + hashlib.sha256(serialize.dumps(cells)).hexdigest()[:16]
    return function


def jit(function):
    """Compile ``function`` in nopython mode with the package settings."""
    return numba.njit(cache=True, error_model="numpy")(own_cache_file(function))


def jit_inline(function):
    """:func:`jit`, inlined into its callers (for small helpers called in every step, e.g. work-array views)."""
    return numba.njit(cache=True, error_model="numpy", inline="always")(own_cache_file(function))


def inlined_twin(compiled):
    """A twin of the compiled function ``compiled`` (its Python source, compiled again) that :func:`jit_inline`
    inlines into its callers, for the callers where a call costs more than it saves (its own cache file)."""
    source = compiled.py_func
    twin = FunctionType(source.__code__, source.__globals__, source.__name__, source.__defaults__, source.__closure__)
    twin.__qualname__ = f"{source.__qualname__}.inlined"
    twin.__module__, twin.__doc__ = source.__module__, source.__doc__
    return jit_inline(twin)


def parallel_jit(function):
    """Compile ``function`` with ``parallel=True`` (for ``numba.prange`` loops)."""
    return numba.njit(cache=True, error_model="numpy", parallel=True)(own_cache_file(function))


def _borrowed(typingctx, array):
    """Compiled code only: ``array`` as a view that holds no reference (no memory owner, no parent object).

    Numba counts references to an array it passes to another compiled function: two atomic updates of the owner's
    count per array and call. The time loop passes its four arrays to the step function at every step, and those
    updates cost half of a three-body leapfrog step (36 of 73 ns, measured on this machine). Views of a borrowed
    array borrow too. Valid while the caller keeps ``array`` alive, so only for arrays that outlive the compiled
    function using the view (its arguments), never returned or stored.
    """
    if not isinstance(array, types.Array):
        raise TypingError(f"borrowed takes an array, got {array}")

    def codegen(context, builder, signature, arguments):
        source = context.make_array(signature.args[0])(context, builder, value=arguments[0])
        view = context.make_array(signature.return_type)(context, builder)
        context.populate_array(view, data=source.data, shape=source.shape, strides=source.strides, itemsize=source.itemsize, meminfo=None)
        return view._getvalue()

    return array(array), codegen


#: :func:`_borrowed` as compiled code calls it: ``borrowed(array)``.
borrowed = cast(Callable[[np.ndarray], np.ndarray], intrinsic(_borrowed))


def _c_view(typingctx, array, shape):
    """Compiled code only: a C-contiguous ``array`` viewed with the C-contiguous ``shape`` (a tuple of integers whose
    product is the array's size, which is not checked).

    What ``array.reshape(shape)`` gives, without its call into Numba's C helper that works out the strides of any
    layout (over half of the time of an AR-CHAIN leapfrog substep, which views its state as links four times).
    """
    if not (isinstance(array, types.Array) and array.layout == "C"):
        raise TypingError(f"c_view takes a C-contiguous array, got {array}")
    item_types = list(cast(Any, shape)) if isinstance(shape, types.BaseTuple) else []
    if not (item_types and all(isinstance(item, types.Integer) for item in item_types)):
        raise TypingError(f"c_view takes a tuple of integers as the shape, got {shape}")
    ndim = len(item_types)
    view_type = array.copy(ndim=ndim, layout="C")

    def codegen(context, builder, signature, arguments):
        source = context.make_array(signature.args[0])(context, builder, value=arguments[0])
        items = cgutils.unpack_tuple(builder, arguments[1], ndim)
        dims = [context.cast(builder, item, item_type, types.intp) for item, item_type in zip(items, item_types, strict=True)]
        strides: list[Any] = []
        stride = source.itemsize
        for dim in reversed(dims):
            strides.insert(0, stride)
            stride = builder.mul(stride, dim)
        view = context.make_array(view_type)(context, builder)
        context.populate_array(
            view, data=source.data, shape=dims, strides=strides, itemsize=source.itemsize, meminfo=source.meminfo, parent=source.parent
        )
        return impl_ret_borrowed(context, builder, view_type, view._getvalue())

    return view_type(array, shape), codegen


#: :func:`_c_view` as compiled code calls it: ``c_view(array, shape)``.
c_view = cast(Callable[[np.ndarray, tuple[int, ...]], np.ndarray], intrinsic(_c_view))


def _fetch_add(typingctx, array, index, value):
    """Compiled code only: ``array[index]`` increased by ``value`` atomically (sequentially consistent); returns its
    value before. ``fetch_add(array, index, 0)`` reads it atomically (a loop that waits on another thread's write
    reads it so), and the writes before a ``fetch_add`` are seen by a thread whose ``fetch_add`` sees its result.

    Threads of a ``prange`` loop share work items through it (:func:`take_next`): Numba's OpenMP layer hands a
    ``prange`` loop's iterations out in fixed contiguous blocks whatever ``numba.parallel_chunksize`` says, so items
    of very different cost leave a thread idle.
    """
    if not (isinstance(array, types.Array) and array.dtype == types.int64 and array.ndim == 1):
        raise TypingError(f"fetch_add takes a one-dimensional int64 array, got {array}")
    if not (isinstance(index, types.Integer) and isinstance(value, types.Integer)):
        raise TypingError(f"fetch_add takes an integer index and value, got {index}, {value}")

    def codegen(context, builder, signature, arguments):
        array_type, index_type, value_type = signature.args
        view = context.make_array(array_type)(context, builder, value=arguments[0])
        where = context.cast(builder, arguments[1], index_type, types.intp)
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [where])
        amount = context.cast(builder, arguments[2], value_type, types.int64)
        return builder.atomic_rmw("add", pointer, amount, "seq_cst")

    return types.int64(array, index, value), codegen


#: :func:`_fetch_add` as compiled code calls it: ``fetch_add(array, index, value)``.
fetch_add = cast(Callable[[np.ndarray, int, int], int], intrinsic(_fetch_add))


@jit_inline
def take_next(counter: np.ndarray) -> int:
    """Compiled code only: ``counter[0]`` increased by one atomically; returns its value before (the next work item
    of those ``counter`` counts, to whichever thread asks first: :func:`fetch_add`)."""
    return fetch_add(counter, 0, 1)
