"""Thread limits of the dense linear algebra."""

import numpy as np
from threadpoolctl import threadpool_info

from adaptsim.launch import serial_blas


def openblas_threads() -> list[int]:
    np.linalg.qr(np.ones((4, 2)))  # make sure NumPy's BLAS is loaded
    return [pool["num_threads"] for pool in threadpool_info() if pool["internal_api"] == "openblas"]


def test_serial_blas_limits_openblas_to_one_thread_and_restores_the_limit():
    before = openblas_threads()
    assert before
    with serial_blas():
        assert set(openblas_threads()) == {1}
    assert openblas_threads() == before
