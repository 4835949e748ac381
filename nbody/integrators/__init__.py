"""The integrators, behind one step signature.

Every integrator module provides ``work_size(n)``, ``init(x, v, m, eps2, work) -> force evaluations``
and step functions ``step(x, v, m, eps2, param, dt_max, work) -> (dt taken, force evaluations)``
that advance ``x, v`` in place by at most ``dt_max``. ``param`` is the integrator's accuracy
parameter: ``eta`` (Hermite, adaptive leapfrog), ``tol`` (Dormand-Prince, IAS15, archain) or a fixed ``dt``.
The time loop (:mod:`nbody.time_loop`) and the RL environments call these same functions, through the
compiled dispatch of :mod:`.dispatch`; :mod:`.table` is the one table of the integrators, :mod:`.settings` holds
one settings class per integrator, resolved to a step function (:class:`.stepper.Stepper`).
"""
