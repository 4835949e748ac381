"""Finite elements: quadrature, Lagrange tetrahedra, the displacement space, assembly and loads."""
