"""Collection settings of the whole suite: the scripts that ``mpiexec`` launches are not modules to import."""

collect_ignore_glob = ["*/mpi_*_check.py"]
