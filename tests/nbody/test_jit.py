"""The package's Numba helpers: the invalidation of the compiled cache (on a change of the sources only, and once
when processes import at once), a cache file per variant of a closure, borrowed arrays, C-contiguous views and the
shared counter from which threads take work items."""

import hashlib
import multiprocessing
import sys

import numba
import numpy as np
import pytest
from numba.core.errors import TypingError

from nbody._jit import _invalidate_stale_cache, borrowed, c_view, fetch_add, jit, own_cache_file, take_next


def _package(tmp_path):
    package = tmp_path / "package"
    (package / "__pycache__").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    for name in ("f.nbi", "f.nbc"):
        (package / "__pycache__" / name).write_bytes(b"compiled")
    return package


def test_the_cache_is_removed_when_the_sources_change_and_kept_otherwise(tmp_path):
    package = _package(tmp_path)
    assert _invalidate_stale_cache(package)
    assert not list(package.glob("__pycache__/f.*"))
    stamp = (package / "__pycache__" / "numba_sources.sha256").read_text()
    assert stamp == hashlib.sha256(b"x = 1\n").hexdigest()
    (package / "__pycache__" / "g.nbi").write_bytes(b"compiled after")
    assert not _invalidate_stale_cache(package) and (package / "__pycache__" / "g.nbi").exists()
    (package / "a.py").write_text("x = 2\n")
    assert _invalidate_stale_cache(package) and not (package / "__pycache__" / "g.nbi").exists()


def _import_and_compile(package, barrier, index, results):
    barrier.wait()
    results[index] = _invalidate_stale_cache(package)
    (package / "__pycache__" / f"compiled_{index}.nbi").write_bytes(b"compiled")  # what this process compiles next


def test_processes_importing_at_once_invalidate_once_and_keep_what_each_compiled(tmp_path):
    package = _package(tmp_path)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(4), context.Array("b", 4)
    processes = [context.Process(target=_import_and_compile, args=(package, barrier, index, results)) for index in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert sum(results) == 1
    assert sorted(path.name for path in package.glob("__pycache__/*.nbi")) == [f"compiled_{index}.nbi" for index in range(4)]


def test_a_borrowed_array_is_the_same_memory_and_leaves_the_reference_count_alone():
    """``borrowed`` views the caller's array (writes go through, views of it too) without holding a reference."""

    @numba.njit
    def scale_first_row(a, factor):
        view = borrowed(a)
        row = view[0]  # a view of the borrowed view
        for k in range(row.shape[0]):
            row[k] *= factor
        return view.sum()

    a = np.arange(6.0).reshape(2, 3)
    count = sys.getrefcount(a)
    assert scale_first_row(a, 10.0) == pytest.approx(0.0 + 10.0 + 20.0 + 3.0 + 4.0 + 5.0)
    assert np.array_equal(a, [[0.0, 10.0, 20.0], [3.0, 4.0, 5.0]]) and sys.getrefcount(a) == count

    @numba.njit
    def not_an_array(value):
        return borrowed(value)

    with pytest.raises(TypingError, match="borrowed takes an array"):
        not_an_array(1.0)


def test_a_c_view_is_the_reshape_and_shares_the_memory():
    """``c_view`` gives what ``reshape`` gives (shape, strides, values; shapes of run-time and literal integers), and
    writes through it reach the array."""

    @numba.njit
    def views(a, rows):
        block = c_view(a[2:14], (rows, 2, 3))
        flat = c_view(a[2:14], (12,))
        block[1, 0, 2] = -1.0
        return block, c_view(block, (12,)), flat, a[2:14].reshape(rows, 2, 3)

    a = np.arange(16.0)
    block, reshaped, flat, reference = views(a, 2)
    assert block.shape == reference.shape == (2, 2, 3) and block.strides == reference.strides == (48, 24, 8)
    assert np.array_equal(block, reference) and np.array_equal(reshaped, flat) and a[2 + 6 + 2] == -1.0
    assert np.array_equal(flat, a[2:14]) and np.shares_memory(block, a)

    @numba.njit
    def strided(a):
        return c_view(a[::2], (2, 4))

    with pytest.raises(TypingError, match="C-contiguous array"):
        strided(np.arange(16.0))

    @numba.njit
    def float_shape(a):
        return c_view(a, (2.0, 8))

    with pytest.raises(TypingError, match="tuple of integers"):
        float_shape(np.arange(16.0))


@numba.njit(parallel=True)
def _take_all(cost, n_threads):
    """Each item of ``cost`` taken by one worker from a shared counter; returns which thread took each, how many
    items each worker took, the counter at the end and each item's sum of ``cost[item]`` sines."""
    counter = np.zeros(1, dtype=np.int64)
    thread = np.full(cost.shape[0], -1, dtype=np.int64)
    sums = np.zeros(cost.shape[0])
    taken = np.zeros(n_threads, dtype=np.int64)
    for worker in numba.prange(n_threads):
        while True:
            item = take_next(counter)
            if item >= cost.shape[0]:
                break
            total = 0.0
            for k in range(cost[item]):
                total += np.sin(k)
            sums[item] = total
            thread[item] = numba.get_thread_id()
            taken[worker] += 1
    return thread, taken, counter, sums


def test_threads_take_each_item_once_and_a_free_thread_takes_the_rest():
    """Every item is taken exactly once (the counter ends at the items plus one look per worker); with the first
    item costing as much as all others together, the other thread takes the rest (Numba's own ``prange`` hands
    the first half to one thread whatever ``numba.parallel_chunksize`` says)."""
    cost = np.full(16, 20_000)
    cost[0] = 2_000_000
    n_threads = min(2, numba.config.NUMBA_NUM_THREADS)
    thread, taken, counter, sums = _take_all(cost, n_threads)
    assert taken.sum() == 16 and counter[0] == 16 + n_threads and np.all(thread >= 0)
    assert sums[1] == pytest.approx(np.sin(np.arange(20_000)).sum(), abs=1e-9)
    if n_threads == 2:
        assert np.all(thread[1:] != thread[0])

    @numba.njit
    def wrong_counter(a):
        return take_next(a)

    with pytest.raises(TypingError, match="int64 array"):
        wrong_counter(np.zeros(1))


def test_fetch_add_returns_the_value_before_and_adds_any_integer_at_any_index():
    @numba.njit
    def changes(a):
        return fetch_add(a, 1, -3), fetch_add(a, 1, 0), fetch_add(a, 0, 5), take_next(a)

    a = np.array([2, 10], dtype=np.int64)
    assert changes(a) == (10, 7, 2, 7) and a.tolist() == [8, 7]


def _adder(constant: float):
    def add(value):
        return value + constant

    return add


def test_each_variant_of_a_closure_has_a_cache_file_of_its_own():
    """Numba numbers the data files of one function's variants from the index it last read, so two processes
    compiling different variants at once could map one to the other's code; one file per variant rules it out."""
    one, other, again = (own_cache_file(_adder(value)) for value in (1.0, 2.0, 1.0))
    assert one.__qualname__ != other.__qualname__ and one.__qualname__ == again.__qualname__
    assert one.__qualname__.startswith("_adder.<locals>.add.")
    assert own_cache_file(_package).__qualname__ == "_package"  # not a closure: as it was
    compiled = [jit(_adder(value)) for value in (1.0, 2.0)]
    assert [function(1.0) for function in compiled] == [2.0, 3.0]
