"""MPI distribution of the blade: element partitions (:mod:`.partition`), which rows of every field a rank
holds and the reductions over ranks (:mod:`.layout`), and the full model on a rank's elements (:mod:`.solver`).

Every rank owns a set of elements (METIS through pymetis where it installs, recursive coordinate
bisection otherwise), hence their integration points, and holds the rows of the nodes its elements touch
(interface nodes are held by several ranks). Inner products are sums of element contributions, so a
rank's share is computed with its *local* mass matrix (assembled over its own elements only) and the
shares add up exactly: nothing is counted twice. Quantities at integration points belong to one rank.
The process-level helpers (thread limits, the abort policy) are generic and live in :mod:`adaptsim.launch`.
"""
