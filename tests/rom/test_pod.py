"""Snapshot POD against an SVD and against pyMOR; enrichment; the mass matrix."""

import numpy as np
import pytest
import scipy.sparse as sp

from adaptsim.linalg.orthogonal import orthogonality_defect
from rom.fem.space import mass_matrix
from rom.geometry import box
from rom.pod import enrich, pod


def graded_snapshots(n=300, m=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 8)) @ np.diag(10.0 ** -np.arange(8)) @ rng.normal(size=(8, m)) + 1e-9 * rng.normal(size=(n, m))


def test_singular_values_match_the_weighted_svd_and_truncation_follows_the_energy():
    snapshots = graded_snapshots()
    weights = np.random.default_rng(1).uniform(0.5, 2.0, snapshots.shape[0])
    basis = pod(snapshots, sp.diags(weights), tolerance=1e-6)
    exact = np.linalg.svd(np.sqrt(weights)[:, None] * snapshots, compute_uv=False)
    found = basis.singular_values.size
    assert found >= 7  # directions below ~3e-7 of the largest count as dependent
    assert np.abs(basis.singular_values - exact[:found]).max() < 1e-14 * exact[0]  # round-off relative to the largest
    energy = exact**2
    discarded = energy[basis.n_modes :].sum() / energy.sum()
    assert discarded <= 1e-12 < energy[basis.n_modes - 1 :].sum() / energy.sum()
    assert orthogonality_defect(basis.modes, M=sp.diags(weights)) < 1e-14


def test_singular_values_and_modes_agree_with_pymor():
    """Both codes are backward stable: each computes the exact POD of ``X + E`` with ``||E|| <= c eps s_1``.

    So (Weyl) every singular value agrees to ``c eps s_1`` in absolute terms - not relative to itself: the 7th
    is ``7e-7 s_1`` here, so its relative difference may reach ~1e-8 - and (Davis-Kahan) the angle between the
    k-th modes is at most ``c eps s_1 / gap_k``. ``c = 10 sqrt(n m)``; measured: 59 for the values and 267 for
    the modes with pymor 2026.1.1, against 1060.
    """
    pymor_pod = pytest.importorskip("pymor.algorithms.pod").pod
    from pymor.operators.numpy import NumpyMatrixOperator
    from pymor.vectorarrays.numpy import NumpyVectorSpace

    mesh = box((1.0, 1.0, 1.0), (2, 2, 2), 2)
    mass = mass_matrix(mesh)
    rng = np.random.default_rng(3)
    snapshots = rng.normal(size=(3 * mesh.n_nodes, 8)) @ np.diag(10.0 ** -np.arange(8)) @ rng.normal(size=(8, 30))
    basis = pod(snapshots, mass, tolerance=1e-7)
    space = NumpyVectorSpace(snapshots.shape[0])
    modes, values = pymor_pod(
        space.from_numpy(snapshots), product=NumpyMatrixOperator(mass), modes=basis.n_modes, rtol=0, atol=0, l2_err=0, method="qr_svd"
    )
    assert basis.n_modes == 7
    ours = basis.singular_values
    backward = 10.0 * np.sqrt(snapshots.size) * np.finfo(float).eps * ours[0]
    assert np.abs(values - ours[: basis.n_modes]).max() <= backward
    theirs = modes.to_numpy()
    theirs = theirs if theirs.shape == basis.modes.shape else theirs.T
    cosines = np.sum(theirs * (mass @ basis.modes), axis=0)
    rest = theirs - basis.modes * cosines
    sines = np.sqrt(np.sum(rest * (mass @ rest), axis=0))
    gaps = -np.diff(np.append(ours, 0.0))
    gaps = np.minimum(gaps, np.append(np.inf, gaps[:-1]))[: basis.n_modes]
    assert np.all(sines <= backward / gaps)


def test_modes_of_small_singular_values_agree_with_an_independent_svd():
    """Against the SVD of ``M^(1/2) S`` (``M^(1/2)`` from ``eigh`` of the mass matrix): each mode's angle within
    ``10 eps s_1 / gap`` (Davis-Kahan with a backward error of a few ``eps s_1``; measured 9e-11 for the 7th mode, whose
    value is 7e-7 of the largest, against 2.9e-9; an SVD of ``R V^T`` instead of the coefficients gave 9e-7)."""
    mesh = box((1.0, 1.0, 1.0), (2, 2, 2), 2)
    mass = mass_matrix(mesh)
    rng = np.random.default_rng(3)
    snapshots = rng.normal(size=(3 * mesh.n_nodes, 8)) @ np.diag(10.0 ** -np.arange(8)) @ rng.normal(size=(8, 30))
    basis = pod(snapshots, mass, tolerance=1e-7)
    values, vectors = np.linalg.eigh(mass.toarray())
    root = vectors @ np.diag(np.sqrt(values)) @ vectors.T
    left, exact, _ = np.linalg.svd(root @ snapshots, full_matrices=False)
    reference = np.linalg.solve(root, left[:, : basis.n_modes])
    cosines = np.sum(reference * (mass @ basis.modes), axis=0)
    rest = reference - basis.modes * cosines
    sines = np.sqrt(np.abs(np.sum(rest * (mass @ rest), axis=0)))
    gaps = -np.diff(exact[: basis.n_modes + 1])
    gaps = np.minimum(gaps, np.append(np.inf, gaps[:-1]))
    assert basis.n_modes == 7 and np.all(sines <= 10.0 * np.finfo(float).eps * exact[0] / gaps)


def test_blade_displacements_compress_to_a_few_modes(blade_training):
    basis = pod(blade_training.displacements, blade_training.mass, tolerance=1e-4)
    assert 3 <= basis.n_modes <= 10
    assert orthogonality_defect(basis.modes, M=blade_training.mass) < 1e-13
    snapshots = blade_training.displacements
    projected = basis.modes @ (basis.modes.T @ (blade_training.mass @ snapshots))
    error = np.sqrt(np.einsum("ij,ij->", snapshots - projected, blade_training.mass @ (snapshots - projected)))
    assert error <= 1.0001e-4 * np.sqrt(np.einsum("ij,ij->", snapshots, blade_training.mass @ snapshots))


def test_enrichment_adds_only_new_directions():
    rng = np.random.default_rng(4)
    modes = pod(rng.normal(size=(50, 3)), tolerance=1e-12).modes
    inside = modes @ np.array([1.0, -2.0, 0.5])
    new = rng.normal(size=50)
    enriched, added = enrich(modes, np.column_stack([inside, new, new + inside]))
    assert added == 1 and enriched.shape == (50, 4)
    assert orthogonality_defect(enriched) < 1e-14


def test_bad_tolerance_is_refused():
    with pytest.raises(ValueError, match="POD tolerance must be > 0"):
        pod(np.eye(3), tolerance=0.0)


def test_mass_matrix_integrates_quadratics_exactly():
    mesh = box((1.0, 2.0, 3.0), (2, 2, 2), 2)
    mass = mass_matrix(mesh)
    u = np.zeros(3 * mesh.n_nodes)
    u[0::3] = mesh.points[:, 0] ** 2
    assert u @ (mass @ u) == pytest.approx(6.0 / 5.0, rel=1e-13)  # int x^4 over the box
