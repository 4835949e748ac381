"""Few-body gravitational dynamics (G = 1) with Numba-JIT integrators.

>>> from nbody import initial_conditions as ic, simulate
>>> run = simulate.integrate(ic.figure_eight(), t_end=6.32591398, integrator="ias15")
>>> float(run.energy_error[-1]) < 1e-13
True
"""
