"""The ROM file: a round trip keeps everything the online phase and a campaign need."""

import numpy as np

from adaptsim.results import load_results, write_results
from rom.online import build_offline
from rom.storage import ROM_KIND, load_rom, save_rom


def test_rom_file_round_trip_keeps_bases_cubature_integrands_scales_and_records(blade_training, tmp_path):
    offline = build_offline(blade_training.space, blade_training.mass, blade_training.increments)
    records = {"enrichments": np.array([3.0, 0.0])}
    path = save_rom(tmp_path / "rom.h5", offline, blade_training.mesh, "case text", campaign=records)
    loaded = load_rom(path, blade_training.mesh)
    for name in ("modes", "p_modes", "plastic_strain_modes", "backstress_modes", "singular_values"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(offline, name))
    np.testing.assert_array_equal(loaded.cubature.points, offline.cubature.points)
    np.testing.assert_array_equal(loaded.cubature.weights, offline.cubature.weights)
    assert loaded.integrands is not None and offline.integrands is not None
    np.testing.assert_array_equal(loaded.integrands.functions, offline.integrands.functions)
    np.testing.assert_array_equal(loaded.integrands.integrals, offline.integrands.integrals)
    assert (loaded.integrands.scale, loaded.integrands.tolerance) == (offline.integrands.scale, offline.integrands.tolerance)
    assert loaded.scales == offline.scales and loaded.scales["displacement"] > 0 and loaded.scales["p"] > 0
    assert loaded.tolerances == offline.tolerances
    np.testing.assert_array_equal(load_results(path).data["campaign"]["enrichments"], records["enrichments"])
    assert offline.stress_modes is not None and offline.stress_modes.shape[0] == 6 * blade_training.space.n_points  # built offline
    np.testing.assert_array_equal(loaded.stress_modes, offline.stress_modes)


def test_an_older_rom_file_without_integrands_or_scales_still_loads(blade_training, tmp_path):
    """Files written before the integrands, the scales, the stress basis and the online tolerance moved: the run
    recomputes or ignores them."""
    offline = build_offline(blade_training.space, blade_training.mass, blade_training.increments)
    path = save_rom(tmp_path / "rom.h5", offline, blade_training.mesh)
    saved = load_results(path)
    data = {key: value for key, value in saved.data.items() if key not in ("integrands", "scales", "stress_modes")}
    attrs = {key: value for key, value in saved.attrs.items() if key not in ("integrands", "scales")}
    attrs["tolerances"] = {**attrs["tolerances"], "indicator": 0.003}  # as an older file stored it
    older = write_results(tmp_path / "older.h5", data, attrs=attrs, case_text=saved.case_text, kind=ROM_KIND)
    loaded = load_rom(older, blade_training.mesh)
    assert loaded.integrands is None and loaded.scales == {} and loaded.tolerances == offline.tolerances
    assert loaded.stress_modes is None  # the online run builds it (tests/rom/test_online.py)
    np.testing.assert_array_equal(loaded.modes, offline.modes)
