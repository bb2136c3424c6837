"""Per-customer random streams: a customer's draws depend only on the seed and its id.

A partition-exact Monte Carlo (the same customer gets the same draws whatever other customers are computed
with it, in whatever order) needs one random stream per customer. :class:`CustomerStreams` keys a counter-based
generator by a stable hash of each id: the ``j``-th uniform of customer ``i`` is
``splitmix64(key_i XOR splitmix64(j))`` with ``key_i = splitmix64(seed XOR hash(id_i))`` (``hash`` is
:func:`pandas.util.hash_array`, fixed across processes, unlike Python's salted ``hash``). Every draw is
vectorised over customers; the counter ``j`` is the index of the call (and, for rejection sampling, of the
attempt), the same for every customer. Gamma variates use Marsaglia and Tsang's method (with the
``U ** (1 / shape)`` boost below shape 1), betas the ratio of two gammas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix_int(z: int) -> int:
    """splitmix64 of a Python int (the counters)."""
    z = (z + _GOLDEN) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser of a uint64 array (wrapping arithmetic)."""
    z = z + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hash_ids(ids) -> np.ndarray:
    """Stable uint64 hash of customer ids (integers by value, anything else by its text)."""
    a = np.asarray(ids)
    if a.dtype.kind in "iub":
        a = a.astype(np.int64)
    elif a.dtype.kind != "O":
        a = a.astype(str).astype(object)
    else:
        a = np.array([str(v) for v in a], dtype=object)
    return pd.util.hash_array(a, categorize=False)


def seed_from(random_state) -> int:
    """A 64-bit seed from ``random_state`` (None: fresh entropy; a Generator: one draw from it)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2 ** 63))
    return int(np.random.SeedSequence(random_state).generate_state(2, np.uint32).view(np.uint64)[0])


class CustomerStreams:
    """Generator-like draws with one independent stream per customer.

    Each method returns one draw per customer (arrays of shape ``(n,)``); a customer's values depend only on
    ``seed``, its id and how many calls came before, never on the other ids.

    Parameters
    ----------
    seed : int
    ids : array-like
        Customer ids, one per stream.

    Examples
    --------
    >>> s1 = CustomerStreams(7, [10, 20, 30]).gamma(2.0)
    >>> s2 = CustomerStreams(7, [30, 10]).gamma(2.0)
    >>> bool(s1[2] == s2[0] and s1[0] == s2[1])
    True
    """

    def __init__(self, seed: int, ids):
        self.keys = _mix(hash_ids(ids) ^ np.uint64(int(seed) & _M64))
        self.n = len(self.keys)
        self._calls = 0

    def _uniform(self, call, attempt, sub, rows=None):
        keys = self.keys if rows is None else self.keys[rows]
        ctr = np.uint64(_mix_int((call << 32) | (attempt << 3) | sub))
        h = _mix(keys ^ ctr)
        return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53     # in (0, 1)

    def _next_call(self):
        self._calls += 1
        return self._calls

    def random(self):
        """Uniform on (0, 1)."""
        return self._uniform(self._next_call(), 0, 0)

    def gamma(self, shape):
        """Gamma(shape, scale 1) draws, ``shape > 0`` (scalar or one per customer)."""
        call = self._next_call()
        shape = np.broadcast_to(np.asarray(shape, dtype=np.float64), (self.n,))
        a = np.where(shape < 1.0, shape + 1.0, shape)
        d = a - 1.0 / 3.0
        c = 1.0 / np.sqrt(9.0 * d)
        out = np.empty(self.n)
        todo = np.arange(self.n)
        attempt = 0
        while len(todo):
            u1, u2 = self._uniform(call, attempt, 0, todo), self._uniform(call, attempt, 1, todo)
            z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)         # Box-Muller
            u = self._uniform(call, attempt, 2, todo)
            dt, ct = d[todo], c[todo]
            v = (1.0 + ct * z) ** 3
            with np.errstate(invalid="ignore", divide="ignore"):
                ok = (v > 0) & (np.log(u) < 0.5 * z * z + dt - dt * v + dt * np.log(v))
            out[todo[ok]] = dt[ok] * v[ok]
            todo = todo[~ok]
            attempt += 1
        small = shape < 1.0
        if small.any():
            boost = self._uniform(call, 0, 3)
            out[small] *= boost[small] ** (1.0 / shape[small])
        return out

    def beta(self, a, b):
        """Beta(a, b) draws as ``X / (X + Y)`` with ``X ~ Gamma(a)``, ``Y ~ Gamma(b)``."""
        x, y = self.gamma(a), self.gamma(b)
        with np.errstate(invalid="ignore"):
            return np.where(x + y > 0, x / (x + y), 0.5)
