"""Adaptive reduced-order model of a rotating, heated turbine blade.

The full model (:mod:`rom.hifi`: 3D finite elements, :mod:`rom.fem`, with the temperature-dependent
elasto-viscoplastic laws of :mod:`rom.materials`), the POD bases (:mod:`rom.pod`), the empirical cubature
(:mod:`rom.hyperreduction`), the reduced Newton solver (:mod:`rom.reduced`), the Gappy-POD error indicator
(:mod:`rom.indicator`) and the adaptive online loop with enrichment (:mod:`rom.online`), distributed over MPI
ranks by :mod:`rom.parallel`. The case kinds are ``rom_hifi`` (:mod:`rom.hifi_case`) and ``rom_online``
(:mod:`rom.online_case`); ``docs/architecture.md`` describes the data flow.
"""
