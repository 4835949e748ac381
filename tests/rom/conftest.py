"""A small blade trained once per test session: the snapshots the ROM tests share."""

import pytest

from .blade_training import train_blade


@pytest.fixture(scope="session")
def blade_training():
    return train_blade("[6,2,8]")


@pytest.fixture(scope="session")
def hotter_blade():
    """The same blade under a tip temperature outside the training range (1150 K instead of 1050 K)."""
    return train_blade("[6,2,8]", "loading.temperature.parameters.T_tip=1150")
