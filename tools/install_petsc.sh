#!/usr/bin/env bash
# Build and install PETSc and petsc4py (the `petsc` extra: `solver.linear_solver: petsc`) into the active virtual
# environment, against the MPI of the `mpich` wheel the project installs (PETSc's PyPI packages are source only).
# Needs BLAS/LAPACK headers (Debian: libopenblas-dev liblapack-dev, installed here with apt-get when missing and
# run as root). About 20 min on 2 cores the first time; pip caches the built wheels, so a second install takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then echo "tools/install_petsc.sh: activate the project's virtual environment first" >&2; exit 2; fi
if ! dpkg -s libopenblas-dev liblapack-dev > /dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then echo "tools/install_petsc.sh: install libopenblas-dev and liblapack-dev (apt-get, as root)" >&2; exit 2; fi
  (apt-get install -y -q libopenblas-dev liblapack-dev || (apt-get update -q && apt-get install -y -q libopenblas-dev liblapack-dev)) > /dev/null
fi
pip install -q -c constraints.txt mpi4py mpich  # PETSc is configured with this MPI's compiler wrappers
export MPICC="$VIRTUAL_ENV/bin/mpicc" MPICXX="$VIRTUAL_ENV/bin/mpicxx"
export PETSC_CONFIGURE_OPTIONS="--with-fc=0 --with-debugging=0"  # no Fortran; an optimised build
pip install -q -c constraints.txt -e ".[petsc]"
