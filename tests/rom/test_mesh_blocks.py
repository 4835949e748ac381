"""Layers of the structured blade built alone against the whole mesh: the same nodes, elements and numbers, and a
layout of each rank's layers equal to the one taken from the whole mesh."""

from types import SimpleNamespace

import numpy as np
import pytest

from rom.geometry import blade, blade_mapping
from rom.mesh_blocks import edges_before, layer_block, layer_ranges
from rom.parallel.layout import Layout


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("divisions", [(8, 2, 10), (5, 3, 7), (1, 1, 2)])
@pytest.mark.parametrize("parts", [1, 2, 3])
def test_layer_blocks_put_together_are_the_whole_mesh(order, divisions, parts):
    whole = blade(divisions=divisions, order=order)
    bounds = layer_ranges(divisions[2], min(parts, divisions[2]))
    covered = np.zeros(whole.n_cells, dtype=int)
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        block = layer_block(blade_mapping(), divisions, (first, last), order)
        assert (block.n_nodes, block.n_elements) == (whole.n_nodes, whole.n_cells)
        assert np.all(np.diff(block.nodes) > 0) and np.all(np.diff(block.elements) > 0)
        assert np.array_equal(block.mesh.points, whole.points[block.nodes])  # bit for bit
        assert np.array_equal(block.nodes[block.mesh.cells], whole.cells[block.elements])
        z_first = whole.points[whole.cells[block.elements]][..., 2].min()  # the blade's z grows with w alone
        assert np.array_equal(block.lower, (np.abs(block.mesh.points[:, 2] - z_first) < 1e-12) & (first > 0))
        block.mesh.check()
        covered[block.elements] += 1
    assert np.all(covered == 1)


def test_edges_are_counted_as_the_whole_mesh_has_them():
    for divisions in [(1, 1, 1), (3, 2, 4), (8, 2, 10)]:
        linear = blade(divisions=divisions, order=1)
        quadratic = blade(divisions=divisions, order=2)
        assert linear.n_nodes + edges_before(divisions)[-1] == quadratic.n_nodes


def test_a_rank_s_layers_give_the_layout_of_its_share_of_the_whole_mesh():
    """Layout.of_block (the rank built its layers alone) against Layout.distributed (the rank took the same elements
    from the whole mesh): the same rows, points and owned dofs; every dof owned by exactly one rank."""
    divisions, parts = (4, 1, 7), 3
    whole = blade(divisions=divisions)
    bounds = layer_ranges(divisions[2], parts)
    layer = (np.arange(whole.n_cells) // 6) % divisions[2]  # cells are numbered with the layer index fastest
    labels = np.searchsorted(bounds, layer, side="right") - 1
    owners = np.zeros(3 * whole.n_nodes, dtype=int)
    for part in range(parts):
        comm = SimpleNamespace(Get_rank=lambda part=part: part)
        alone = Layout.of_block(layer_block(blade_mapping(), divisions, (bounds[part], bounds[part + 1])), comm)
        taken = Layout.distributed(whole, labels, comm)
        assert np.array_equal(alone.dofs, taken.dofs) and np.array_equal(alone.points, taken.points)
        assert np.array_equal(alone.owned, taken.owned)
        assert (alone.n_dofs, alone.n_points) == (taken.n_dofs, taken.n_points)
        assert np.array_equal(alone.space.weights, taken.space.weights)
        owners[alone.dofs[alone.owned]] += 1
    assert np.all(owners == 1)


def test_layer_ranges_split_evenly_and_refuse_more_parts_than_layers():
    assert list(layer_ranges(10, 3)) == [0, 3, 7, 10]
    with pytest.raises(ValueError, match="cannot split 2 layers into 3 parts"):
        layer_ranges(2, 3)
    with pytest.raises(ValueError, match="not a range"):
        layer_block(blade_mapping(), (2, 1, 3), (2, 2))
