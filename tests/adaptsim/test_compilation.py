"""A compilation is said once, and the time left is measured from the rate after it."""

import numba
import pytest

from adaptsim import compilation, progress


@pytest.fixture
def fresh(monkeypatch):
    """This process as if nothing had been compiled yet (the listener, once registered, stays)."""
    monkeypatch.delenv("ADAPTSIM_QUIET", raising=False)
    monkeypatch.setattr(compilation, "_SEEN", compilation._Compilations(installed=compilation._SEEN.installed))


def test_compiling_is_said_once_and_timed(fresh, capsys):
    compilation.watch(progress._announce_compiling)
    before = compilation.compiling_seconds()
    for offset in (1.0, 2.0):  # two new functions: two compilations, one line
        assert numba.njit(lambda x, offset=offset: x + offset)(1.0) == 1.0 + offset
    lines = [line for line in capsys.readouterr().err.splitlines() if "compiling" in line]
    assert lines == ["adaptsim compiling (first run only: the compiled code is kept on disk for the next runs)"]
    assert compilation.compiling_seconds() > before


def test_the_time_left_leaves_the_compilation_out(fresh, monkeypatch, capsys):
    """100 s of compiling, then 10 units in 10 s: 89 units left take 89 s (not 890 s, the rate with the compiling)."""
    clock = {"now": 0.0, "compiled": 0.0}
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(compilation, "compiling_seconds", lambda: clock["compiled"])
    monkeypatch.setattr(progress, "LINE_INTERVAL_S", 1.0)
    with progress.ProgressBar("steps", total=100) as bar:
        clock["now"] = clock["compiled"] = 100.0
        bar.update(1.0)
        clock["now"] = 110.0
        bar.update(11.0)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "adaptsim steps: 1% (1 of 100), 0:01:40 elapsed"  # the rate is not known yet
    assert lines[1] == "adaptsim steps: 11% (11 of 100), 0:01:50 elapsed, about 0:01:29 left"
