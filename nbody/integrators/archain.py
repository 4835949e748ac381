"""Algorithmic regularisation in chain coordinates (AR-CHAIN): the logarithmic-Hamiltonian leapfrog with
Gragg-Bulirsch-Stoer extrapolation, for close encounters and collisions of a few bodies.

**Time transformation** (Mikkola & Tanikawa 1999; Preto & Tremaine 1999). In fictitious time ``s`` the
leapfrog of ``Gamma = ln(T + B) - ln(U)`` (``T`` the kinetic energy in the centre-of-mass frame, ``U`` the
positive force function ``sum m_i m_j / r_ij``, ``B = -E`` the binding energy, constant) alternates

- a drift of ``ds``: ``dt = ds / (T + B)``, ``x += dt v``, ``t += dt``,
- a kick of ``ds``: ``v += (ds / U) a``.

On the exact solution ``T + B = U``, so both substeps take a physical time of about ``ds / U``: short in a
close encounter, with no step-size decision. For two bodies the leapfrog's points lie on the exact Kepler
orbit, even on a collision orbit (only the time along it is in error), which is what makes it regular.

**Chain coordinates** (Mikkola & Aarseth 1993). The bodies are ordered in a chain, each link the
shortest available (greedy: the closest pair, then the body closest to either end); the state is the
link vectors ``X_k = x_{c(k+1)} - x_{c(k)}`` and their velocities ``W_k``, plus the centre of mass, which
moves uniformly. A close pair's separation is then stored to full relative precision instead of as the
difference of two coordinates of order one (at ``r = 1e-7`` that difference keeps 9 digits). Separations
of bodies that are not neighbours are sums of the links between them. When another ordering becomes
shorter the chain is rebuilt from sums of the old links, which keeps that precision.

**Extrapolation** (Gragg-Bulirsch-Stoer, Bulirsch & Stoer 1966; Mikkola & Merritt 2008). One step of
fictitious length ``h`` is the leapfrog with ``n = 1, 2, 3, 4, 6, 8, ...`` substeps (:data:`SUBSTEPS`); the
leapfrog is symmetric, so its error expands in ``(h / n)^2`` and Aitken-Neville extrapolation of those
results to ``h / n -> 0`` gains two orders per column. The difference of the last two columns,
relative to each link's length and velocity scale and to the step's time, is the error estimate; the
step is accepted when it is below ``tol``. Step size and number of columns for the next step follow the
work per unit step (Hairer, Norsett & Wanner, *Solving ODEs I*, II.9). A step whose physical length
would pass ``dt_max`` is shortened to land on it (see :func:`_advance`).

The fixed-step variant (``dt``) is the logH leapfrog without extrapolation at a constant fictitious step
``dt * U0`` (``U0`` the initial force function): symplectic and time-reversible in the extended phase
space, second order, and ``dt`` long wherever the system looks like its initial state.

Work array: the header (the step's length and columns, and the state of a step under way, so that the lane step of
:mod:`nbody.integrators.archain_lanes` runs the same code between its substeps), the chain order, the links ``X,
W``, the centre of mass, the Cartesian state last written (a caller that changes ``x, v`` between steps makes the
chain be rebuilt from them) and the extrapolation table.
"""

import math

import numpy as np

from nbody._jit import c_view, jit, jit_inline
from nbody.forces import free_fall_time

#: Substeps of the leapfrog in each column of the extrapolation (Bulirsch's sequence: against ``2, 4, 6, ...``
#: it halves the cost of the short steps that land on output times, and its round-off floor is lower than
#: the harmonic ``1, 2, 3, ...``: Pythagorean problem to t = 100 at tol 1e-14, dE/E 2.4e-13 against 9.4e-13
#: and 1.6e-12).
SUBSTEPS = np.array([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64])
_COLUMNS = SUBSTEPS.shape[0]
#: Cumulative force evaluations up to each column (the work of converging there).
_WORK = np.cumsum(SUBSTEPS).astype(np.float64)
#: The next step is at most this many times the last, and a rejected one at least this fraction shorter.
MAX_GROWTH = 4.0
SAFETY = 0.9
#: First physical step as a fraction of the shortest free-fall time.
INITIAL_STEP_FRACTION = 1e-2
#: A step lands on ``dt_max`` when within this relative distance of it (what remains after an aimed step is
#: a small fraction of a step, so the time error this leaves is at round-off; tighter, the root search
#: chases round-off in ``t(h)``).
LANDING_TOLERANCE = 1e-13
#: A step that would pass ``dt_max`` aims at this fraction of it (an undershoot is accepted, an overshoot redone) ...
AIM = 0.99
#: ... unless what remains is below this fraction of the step: then it lands on ``dt_max`` by a root search,
#: cheap because so short a step converges in the first columns.
FINAL_FRACTION = 0.05
_MAX_ATTEMPTS = 100
_LANDING_TRIES = 12  # root-search steps before an undershooting step is accepted as it is
_FIRST_COLUMNS = 6  # columns tried on the first step

# header: fictitious step, binding energy, target column, initial force function, dt/h of the last step; then the
# state of the step under way (:func:`_prepare`, :func:`_settle`): the fictitious length of the next attempt, its
# columns, the step and columns proposed before it was shortened to land, whether it lands and by a root search, the
# time aimed at, the bracket of the root search (``h`` and ``t(h) - target`` at each end), the side the last try fell
# on and the tries
_STEP, _BINDING, _COLUMN, _U0, _RATE = 0, 1, 2, 3, 4
_H, _COLUMNS_NOW, _NATURAL_STEP, _NATURAL_COLUMNS, _LANDING, _FINAL, _TARGET = 5, 6, 7, 8, 9, 10, 11
_LOW_H, _LOW_F, _HIGH_H, _HIGH_F, _SIDE, _TRIES, _HEADER = 12, 13, 14, 15, 16, 17, 18


@jit_inline
def _state_length(n: int) -> int:
    return 6 * (n - 1) + 1  # links X, their velocities W, time


@jit_inline
def _views_length(n: int) -> int:
    """Entries of the work array after the header that :func:`_views` covers; :func:`_scratch` follows them."""
    return n + 6 + 6 * n + (_COLUMNS + 3) * _state_length(n) + 9 * n


def work_size(n: int) -> int:
    """Length of the work array for ``n`` bodies."""
    return _HEADER + _views_length(n) + 4 * n + _COLUMNS  # _views, then _scratch


@jit_inline
def _views(work: np.ndarray, n: int):
    """Order, state ``[X, W, t]``, centre of mass ``[x, v]``, last output ``[x, v]``, table, two state
    buffers, accelerations, positions and velocities in chain order (the scratch of the chain search and of the
    step-size control is :func:`_scratch`)."""
    length = _state_length(n)
    start = _HEADER
    order = work[start : start + n]
    start += n
    state = work[start : start + length]
    start += length
    centre = work[start : start + 6]
    start += 6
    output = c_view(work[start : start + 6 * n], (2, n, 3))
    start += 6 * n
    table = c_view(work[start : start + _COLUMNS * length], (_COLUMNS, length))
    start += _COLUMNS * length
    buffers = c_view(work[start : start + 2 * length], (2, length))
    start += 2 * length
    scratch = c_view(work[start : start + 9 * n], (3, n, 3))
    return order, state, centre, output, table, buffers[0], buffers[1], scratch[0], scratch[1], scratch[2]


@jit_inline
def _scratch(work: np.ndarray, n: int):
    """The chain search's ``3n`` and a new order's ``n`` entries, and the step sizes of the columns: space in the
    work array, so that a step allocates nothing (allocations contend between the batch engine's threads)."""
    start = _HEADER + _views_length(n)
    return work[start : start + 3 * n], work[start + 3 * n : start + 4 * n], work[start + 4 * n :]


@jit_inline
def _links(y: np.ndarray, n: int):
    """``X, W`` (each ``(n - 1, 3)``) of a state vector ``[X, W, t]``."""
    size = 3 * (n - 1)
    return c_view(y[:size], (n - 1, 3)), c_view(y[size : 2 * size], (n - 1, 3))


@jit_inline
def _chain_masses(m: np.ndarray, order: np.ndarray, k: int) -> float:
    return m[int(order[k])]


@jit_inline
def _chain_positions(X: np.ndarray, n: int, q: np.ndarray) -> None:
    """Positions along the chain relative to its first body: ``q_0 = 0``, ``q_{k+1} = q_k + X_k``."""
    q[0, :] = 0.0
    for k in range(n - 1):
        for d in range(3):
            q[k + 1, d] = q[k, d] + X[k, d]


@jit_inline
def _centred(m: np.ndarray, order: np.ndarray, q: np.ndarray, n: int) -> None:
    """Subtract the mass-weighted mean from chain-ordered vectors ``q``."""
    total = 0.0
    mean_x = mean_y = mean_z = 0.0  # scalars: this runs in every drift, an array would be allocated there
    for k in range(n):
        mk = _chain_masses(m, order, k)
        total += mk
        mean_x += mk * q[k, 0]
        mean_y += mk * q[k, 1]
        mean_z += mk * q[k, 2]
    for k in range(n):
        q[k, 0] -= mean_x / total
        q[k, 1] -= mean_y / total
        q[k, 2] -= mean_z / total


@jit_inline
def _kinetic(m: np.ndarray, order: np.ndarray, W: np.ndarray, n: int, u: np.ndarray) -> float:
    """Kinetic energy in the centre-of-mass frame from the link velocities."""
    _chain_positions(W, n, u)
    _centred(m, order, u, n)
    energy = 0.0
    for k in range(n):
        energy += 0.5 * _chain_masses(m, order, k) * (u[k, 0] ** 2 + u[k, 1] ** 2 + u[k, 2] ** 2)
    return energy


@jit_inline
def _force_function(m: np.ndarray, order: np.ndarray, X: np.ndarray, eps2: float, n: int, a: np.ndarray) -> float:
    """``U = sum m_i m_j / r_ij`` and the accelerations in chain order, every separation a sum of links."""
    a[:, :] = 0.0
    potential = 0.0
    for i in range(n - 1):
        mi = _chain_masses(m, order, i)
        rx = 0.0
        ry = 0.0
        rz = 0.0
        for j in range(i + 1, n):
            rx += X[j - 1, 0]
            ry += X[j - 1, 1]
            rz += X[j - 1, 2]
            mj = _chain_masses(m, order, j)
            r2 = rx * rx + ry * ry + rz * rz + eps2
            inv_r = 1.0 / math.sqrt(r2)
            inv_r3 = inv_r * inv_r * inv_r
            potential += mi * mj * inv_r
            a[i, 0] += mj * rx * inv_r3
            a[i, 1] += mj * ry * inv_r3
            a[i, 2] += mj * rz * inv_r3
            a[j, 0] -= mi * rx * inv_r3
            a[j, 1] -= mi * ry * inv_r3
            a[j, 2] -= mi * rz * inv_r3
    return potential


@jit_inline
def _drift(m, order, y, ds, binding, n, u) -> bool:
    """Drift of fictitious length ``ds``; False where ``T + B`` is not positive (the step is too long)."""
    X, W = _links(y, n)
    rate = _kinetic(m, order, W, n, u) + binding
    if not (rate > 0.0):
        return False
    dt = ds / rate
    for k in range(n - 1):
        for d in range(3):
            X[k, d] += dt * W[k, d]
    y[-1] += dt
    return True


@jit_inline
def _kick(m, order, y, ds, eps2, n, a) -> None:
    """Kick of fictitious length ``ds``."""
    X, W = _links(y, n)
    dt = ds / _force_function(m, order, X, eps2, n, a)
    for k in range(n - 1):
        for d in range(3):
            W[k, d] += dt * (a[k + 1, d] - a[k, d])


@jit_inline
def _leapfrog_start(m, order, start, y, h, substeps, binding, n, u) -> bool:
    """The first half drift of :func:`_leapfrog` (``y`` from ``start`` at time 0); False where it breaks down."""
    y[:] = start
    y[-1] = 0.0
    hs = h / substeps
    return _drift(m, order, y, 0.5 * hs, binding, n, u)


@jit_inline
def _finite(y) -> bool:
    """Whether every entry of ``y`` is finite (``np.all(np.isfinite(y))`` without the temporary array)."""
    for value in y:  # noqa: SIM110 (a generator in all() does not compile)
        if not math.isfinite(value):
            return False
    return True


@jit_inline
def _leapfrog(m, order, start, y, h, substeps, binding, eps2, n, a, u) -> bool:
    """``y`` = ``start`` advanced by ``substeps`` leapfrog substeps of total fictitious length ``h``."""
    if not _leapfrog_start(m, order, start, y, h, substeps, binding, n, u):
        return False
    hs = h / substeps
    for step in range(substeps):
        _kick(m, order, y, hs, eps2, n, a)
        if not _drift(m, order, y, hs if step < substeps - 1 else 0.5 * hs, binding, n, u):
            return False
    return _finite(y)


@jit_inline
def _error(m, order, high, low, n) -> float:
    """Largest difference of two extrapolations relative to each link's length and velocity scale, and to the time."""
    Xh, Wh = _links(high, n)
    Xl, Wl = _links(low, n)
    error = abs(high[-1] - low[-1]) / abs(high[-1]) if high[-1] != 0.0 else 0.0
    for k in range(n - 1):
        length = math.sqrt(Xh[k, 0] ** 2 + Xh[k, 1] ** 2 + Xh[k, 2] ** 2)
        speed = math.sqrt(Wh[k, 0] ** 2 + Wh[k, 1] ** 2 + Wh[k, 2] ** 2)
        pair_speed = math.sqrt((_chain_masses(m, order, k) + _chain_masses(m, order, k + 1)) / length)
        dx = math.sqrt((Xh[k, 0] - Xl[k, 0]) ** 2 + (Xh[k, 1] - Xl[k, 1]) ** 2 + (Xh[k, 2] - Xl[k, 2]) ** 2)
        dw = math.sqrt((Wh[k, 0] - Wl[k, 0]) ** 2 + (Wh[k, 1] - Wl[k, 1]) ** 2 + (Wh[k, 2] - Wl[k, 2]) ** 2)
        error = max(error, dx / length, dw / max(speed, pair_speed))
    return error


@jit
def _extrapolate(m, order, tol, h, k, columns, work):
    """Column ``k`` of a Gragg-Bulirsch-Stoer step of fictitious length ``h``, its leapfrog result in ``previous``
    (:func:`_views`): the Aitken-Neville update of the table, the error estimate and the step-size control. Returns
    ``(done, accepted, h_next, columns_next)``: ``done`` when the step is decided (accepted with its result in
    ``table[accepted - 1]``, or rejected with ``accepted`` 0, at the last of ``columns`` + 1 columns at the latest)."""
    n = m.shape[0]
    table, previous, current = _views(work, n)[4:7]
    steps = _scratch(work, n)[2]
    # Aitken-Neville: previous = T[k][j - 1], table[j - 1] = T[k - 1][j - 1] before it is overwritten
    for j in range(1, k + 1):
        ratio = (SUBSTEPS[k] / SUBSTEPS[k - j]) ** 2 - 1.0
        for index in range(current.shape[0]):
            current[index] = previous[index] + (previous[index] - table[j - 1, index]) / ratio
        table[j - 1, :] = previous
        previous[:] = current
    table[k, :] = previous
    last = _last_column(columns)
    if k == 0:
        return False, 0, h, columns
    error = _error(m, order, table[k], table[k - 1], n) / tol
    steps[k] = h * SAFETY * (1.0 / max(error, 1e-300)) ** (1.0 / (2 * k + 1)) if math.isfinite(error) else 0.1 * h
    if steps[k] > MAX_GROWTH * h:
        steps[k] = MAX_GROWTH * h
    best = 1
    for j in range(2, k + 1):
        if _WORK[j] / steps[j] < _WORK[best] / steps[best]:
            best = j
    if error <= 1.0:
        if best == k and k + 1 < _COLUMNS - 1:
            return True, k + 1, min(steps[k] * _WORK[k + 1] / _WORK[k], MAX_GROWTH * h), k + 1
        return True, k + 1, steps[best], max(best, 2)
    if k == last:
        return True, 0, h * max(0.05, min(0.5, steps[best] / h)), max(best, 2)
    return False, 0, h, columns


@jit_inline
def _last_column(columns: int) -> int:
    """The last column a step aiming at ``columns`` tries."""
    return min(columns + 1, _COLUMNS - 1)


@jit_inline
def _broken_down(h: float, columns: int, extrapolate: bool):
    """``(accepted, h_next, columns_next)`` of an attempt whose leapfrog broke down (``T + B`` not positive, or a
    non-finite state): rejected, half as long, and when extrapolating with one column fewer (at least 2)."""
    return 0, 0.5 * h, max(columns - 1, 2) if extrapolate else columns


@jit_inline
def _fixed_attempt(ok: bool, h: float, columns: int):
    """``(accepted, h_next, columns_next)`` of an attempt of :func:`step_fixed` (one leapfrog substep): taken unless
    it broke down."""
    return (1, h, columns) if ok else _broken_down(h, columns, False)


@jit
def _extrapolated_step(m, eps2, tol, h, columns, work):
    """One Gragg-Bulirsch-Stoer step of fictitious length ``h`` over at most ``columns`` + 1 columns.

    Returns ``(accepted, h_next, columns_next, force evaluations)``; an accepted result is in ``table[k]``
    with ``k`` its column, returned as the integer part of ``accepted - 1`` (0 when rejected).
    """
    n = m.shape[0]
    order, state, centre, output, table, previous, current, a, q, u = _views(work, n)
    binding = work[_BINDING]
    evals = 0
    for k in range(_last_column(columns) + 1):
        evals += SUBSTEPS[k]
        if not _leapfrog(m, order, state, previous, h, SUBSTEPS[k], binding, eps2, n, a, u):
            accepted, h_next, columns_next = _broken_down(h, columns, True)
            return accepted, h_next, columns_next, evals
        done, accepted, h_next, columns_next = _extrapolate(m, order, tol, h, k, columns, work)
        if done:
            return accepted, h_next, columns_next, evals
    return 0, h, columns, evals  # not reached: the last column decides


@jit
def _write(x, v, m, work) -> None:
    """Cartesian ``x, v`` from the chain and the centre of mass; remembered to detect outside changes."""
    n = m.shape[0]
    order, state, centre, output, table, previous, current, a, q, u = _views(work, n)
    X, W = _links(state, n)
    _chain_positions(X, n, q)
    _centred(m, order, q, n)
    _chain_positions(W, n, u)
    _centred(m, order, u, n)
    for k in range(n):
        body = int(order[k])
        for d in range(3):
            x[body, d] = centre[d] + q[k, d]
            v[body, d] = centre[3 + d] + u[k, d]
    output[0, :, :] = x
    output[1, :, :] = v


@jit
def _greedy_order(p: np.ndarray, n: int, order: np.ndarray, scratch: np.ndarray) -> None:
    """Chain order of the bodies at positions ``p`` (any frame): the closest pair, then repeatedly the body
    closest to either end; written as indices into ``p``, first index below last. ``scratch``: ``3n`` entries."""
    chained = scratch[:n]
    chained[:] = 0.0
    best = np.inf
    first = 0
    second = 1
    for i in range(n):
        for j in range(i + 1, n):
            r2 = (p[j, 0] - p[i, 0]) ** 2 + (p[j, 1] - p[i, 1]) ** 2 + (p[j, 2] - p[i, 2]) ** 2
            if r2 < best:
                best, first, second = r2, i, j
    head = n  # the chain grows in buffer[head:tail] of a buffer of 2n
    buffer = scratch[n : 3 * n]
    buffer[head] = first
    buffer[head + 1] = second
    tail = head + 2
    chained[first] = chained[second] = 1.0
    for _ in range(n - 2):
        best = np.inf
        body = -1
        at_head = False
        for end in (int(buffer[head]), int(buffer[tail - 1])):
            for i in range(n):
                if chained[i] == 0.0:
                    r2 = (p[i, 0] - p[end, 0]) ** 2 + (p[i, 1] - p[end, 1]) ** 2 + (p[i, 2] - p[end, 2]) ** 2
                    if r2 < best:
                        best, body, at_head = r2, i, end == buffer[head]
        chained[body] = 1.0
        if at_head:
            head -= 1
            buffer[head] = body
        else:
            buffer[tail] = body
            tail += 1
    reverse = buffer[head] > buffer[tail - 1]
    for k in range(n):
        order[k] = buffer[tail - 1 - k] if reverse else buffer[head + k]


@jit
def _build(x, v, m, eps2, work) -> None:
    """Chain, links, centre of mass and binding energy from Cartesian ``x, v``."""
    n = m.shape[0]
    order, state, centre, output, table, previous, current, a, q, u = _views(work, n)
    _greedy_order(x, n, order, _scratch(work, n)[0])
    X, W = _links(state, n)
    for k in range(n - 1):
        for d in range(3):
            X[k, d] = x[int(order[k + 1]), d] - x[int(order[k]), d]
            W[k, d] = v[int(order[k + 1]), d] - v[int(order[k]), d]
    state[-1] = 0.0
    total = 0.0
    centre[:] = 0.0
    for i in range(n):
        total += m[i]
        for d in range(3):
            centre[d] += m[i] * x[i, d]
            centre[3 + d] += m[i] * v[i, d]
    centre[:] /= total
    potential = _force_function(m, order, X, eps2, n, a)
    work[_BINDING] = potential - _kinetic(m, order, W, n, u)
    work[_U0] = potential
    output[0, :, :] = x
    output[1, :, :] = v


@jit
def _rechain(m, work) -> None:
    """Rebuild the chain when another ordering is shorter, the new links summed from the old ones."""
    n = m.shape[0]
    if n < 3:
        return
    order, state, centre, output, table, previous, current, a, q, u = _views(work, n)
    X, W = _links(state, n)
    _chain_positions(X, n, q)
    search, new = _scratch(work, n)[:2]
    _greedy_order(q, n, new, search)  # indices into the current chain
    same = True
    for k in range(n):
        same = same and new[k] == k
    if same:
        return
    Xo = X.copy()
    Wo = W.copy()
    for k in range(n - 1):
        i = int(new[k])
        j = int(new[k + 1])
        sign = 1.0 if j > i else -1.0
        for d in range(3):
            X[k, d] = 0.0
            W[k, d] = 0.0
        for link in range(min(i, j), max(i, j)):
            for d in range(3):
                X[k, d] += sign * Xo[link, d]
                W[k, d] += sign * Wo[link, d]
    old = order.copy()
    for k in range(n):
        order[k] = old[int(new[k])]


@jit
def init(x: np.ndarray, v: np.ndarray, m: np.ndarray, eps2: float, work: np.ndarray) -> int:
    """Build the chain and the first trial step; returns the number of force evaluations (1)."""
    work[:] = 0.0
    n = m.shape[0]
    if n == 1:
        return 0
    _build(x, v, m, eps2, work)
    work[_STEP] = INITIAL_STEP_FRACTION * free_fall_time(m, x, eps2) * work[_U0]
    work[_RATE] = 1.0 / work[_U0]
    work[_COLUMN] = _FIRST_COLUMNS
    return 1


@jit
def _sync(x, v, m, eps2, work) -> int:
    """Rebuild the chain if ``x, v`` were changed since the last step; returns the force evaluations (0 or 1)."""
    n = m.shape[0]
    output = _views(work, n)[3]
    for i in range(n):
        for d in range(3):
            if x[i, d] != output[0, i, d] or v[i, d] != output[1, i, d]:
                step, column, initial = work[_STEP], work[_COLUMN], work[_U0]
                _build(x, v, m, eps2, work)
                work[_STEP], work[_COLUMN], work[_U0] = step, column, initial  # the fixed step keeps its length
                return 1
    return 0


@jit
def _prepare(x, v, m, eps2, h, dt_max, work) -> int:
    """Before a step from fictitious length ``h`` (at most ``dt_max`` of physical time): the chain rebuilt if ``x, v``
    were changed or another order is shorter, and the step under way set up in the header (shortened to land on
    ``dt_max``, see :func:`_advance`). Returns the force evaluations (0 or 1)."""
    n = m.shape[0]
    evals = _sync(x, v, m, eps2, work)
    _rechain(m, work)
    order, state, centre, output, table, previous, current, a, q, u = _views(work, n)
    work[_COLUMNS_NOW] = work[_COLUMN]
    work[_NATURAL_STEP] = h
    work[_NATURAL_COLUMNS] = work[_COLUMN]
    landing = h * work[_RATE] > dt_max
    final = landing and dt_max < FINAL_FRACTION * h * work[_RATE]
    target = dt_max if final else AIM * dt_max
    if final:  # aim from the rate dt/ds = 1 / (T + B) now
        h = target * (_kinetic(m, order, _links(state, n)[1], n, u) + work[_BINDING])
    elif landing:  # aim from the last step's mean rate
        h = target / work[_RATE]
    work[_H] = h
    work[_LANDING] = 1.0 if landing else 0.0
    work[_FINAL] = 1.0 if final else 0.0
    work[_TARGET] = target
    work[_LOW_H], work[_LOW_F], work[_HIGH_H], work[_HIGH_F] = 0.0, -target, 0.0, 0.0
    work[_SIDE] = 0.0
    work[_TRIES] = 0.0
    return evals


@jit
def _settle(x, v, m, accepted, h_next, columns_next, result, dt_max, work):
    """After an attempt of the step under way (``accepted`` 0 when rejected, its proposal ``h_next, columns_next``,
    its end state ``result``): ``(True, dt)`` when the step is taken (the state, centre of mass, header and ``x, v``
    written), else ``False`` with the next attempt's length and columns in the header (:func:`_advance`)."""
    n = m.shape[0]
    order, state, centre, output, table, previous, current, a, q, u = _views(work, n)
    if accepted == 0:
        work[_H] = h_next
        work[_COLUMNS_NOW] = columns_next
        return False, 0.0
    h = work[_H]
    target = work[_TARGET]
    final = work[_FINAL] != 0.0
    dt = result[-1]
    landed = abs(dt - dt_max) <= LANDING_TOLERANCE * dt_max
    if not landed and (dt > dt_max or (final and work[_TRIES] < _LANDING_TRIES)):
        if work[_LANDING] == 0.0:
            work[_LANDING] = 1.0
            work[_NATURAL_STEP], work[_NATURAL_COLUMNS] = h_next, columns_next
        work[_TRIES] += 1.0
        if dt > target:
            work[_HIGH_H], work[_HIGH_F] = h, dt - target
            if work[_SIDE] == 1.0:
                work[_LOW_F] *= 0.5
            work[_SIDE] = 1.0
        else:
            work[_LOW_H], work[_LOW_F] = h, dt - target
            if work[_SIDE] == -1.0:
                work[_HIGH_F] *= 0.5
            work[_SIDE] = -1.0
        low_h, low_f, high_h, high_f = work[_LOW_H], work[_LOW_F], work[_HIGH_H], work[_HIGH_F]
        newton = h + (target - dt) * (_kinetic(m, order, _links(result, n)[1], n, u) + work[_BINDING])  # dt/dh = 1 / (T + B) at the end
        work[_H] = newton if high_h == 0.0 or low_h < newton < high_h else low_h - low_f * (high_h - low_h) / (high_f - low_f)
        return False, 0.0
    state[:] = result
    state[-1] = 0.0
    taken = dt_max if landed else dt
    for d in range(3):
        centre[d] += centre[3 + d] * taken
    landing = work[_LANDING] != 0.0
    work[_STEP] = work[_NATURAL_STEP] if landing else h_next
    work[_COLUMN] = work[_NATURAL_COLUMNS] if landing else columns_next
    work[_RATE] = dt / h
    _write(x, v, m, work)
    return True, taken


@jit_inline
def _alone(x, v, dt_max):
    """A lone body (after mergers) moves uniformly: ``(dt_max, 0)``, the step and its force evaluations."""
    for d in range(3):
        x[0, d] += v[0, d] * dt_max
    return dt_max, 0


@jit
def _advance(x, v, m, eps2, tol, h, dt_max, extrapolate, work):
    """Take one step from fictitious length ``h``, shortened to land on ``dt_max``; returns ``(dt, evals)``.

    A step that would pass ``dt_max`` aims at :data:`AIM` of it from the last step's rate ``dt / h``; what is
    left (under :data:`FINAL_FRACTION` of a step) is landed on exactly by Newton's method for ``t(h) = dt_max``
    (``dt/dh = 1 / (T + B)`` at the end of the step), within a bracket kept by the Illinois variant of regula
    falsi (``t`` increases with ``h``). The next step keeps the length the error control proposed before the
    step was shortened.
    """
    n = m.shape[0]
    if n == 1:
        return _alone(x, v, dt_max)
    evals = _prepare(x, v, m, eps2, h, dt_max, work)
    order, state, centre, output, table, previous, current, a, q, u = _views(work, n)
    for _ in range(_MAX_ATTEMPTS):
        h = work[_H]
        columns = int(work[_COLUMNS_NOW])
        if extrapolate:
            accepted, h_next, columns_next, spent = _extrapolated_step(m, eps2, tol, h, columns, work)
            result = table[max(accepted - 1, 0)]
        else:
            ok = _leapfrog(m, order, state, previous, h, 1, work[_BINDING], eps2, n, a, u)
            accepted, h_next, columns_next = _fixed_attempt(ok, h, columns)
            spent = 1
            result = previous
        evals += spent
        taken, dt = _settle(x, v, m, accepted, h_next, columns_next, result, dt_max, work)
        if taken:
            return dt, evals
    return 0.0, evals  # no step found: the time loop reports a step underflow


@jit_inline
def step_adaptive(x, v, m, eps2, tol, dt_max, work):
    """One extrapolated step at accuracy ``tol``; returns ``(dt taken, force evaluations)``."""
    return _advance(x, v, m, eps2, tol, work[_STEP], dt_max, True, work)


@jit_inline
def step_fixed(x, v, m, eps2, dt, dt_max, work):
    """One logH leapfrog step of fictitious length ``dt * U0`` (shortened to land on ``dt_max``)."""
    return _advance(x, v, m, eps2, 1.0, dt * work[_U0], dt_max, False, work)
