"""Vectorised window aggregation over customer-sorted arrays.

Rows of one "level" (transaction lines, purchase occasions, event rows, ...)
are sorted once by (integer customer code, time). The rows of one customer in
a window ``[as_of - w days, as_of)`` are then a contiguous suffix of that
customer's block; its start is found for all customers and all windows at once
from one ``bincount`` of (customer, age bucket). Window counts are differences of block bounds, maxima and
minima ``np.maximum.reduceat`` over the window segments.

Sums are *partition-exact*: a customer's value depends only on that customer's rows (in their sorted order),
never on which other customers share the arrays. The age boundaries of all windows cut each customer's block
into consecutive *pieces*; one ``np.add.reduceat`` per measure gives every piece's sum (a reduction over that
piece's rows only), and a running sum over each customer's own pieces, newest first, gives every window.
(Differences of global prefix sums would carry the rounding of every earlier customer into each value:
385.0200000000186 or 385.0199999999022 depending on the partition.)
"""

from __future__ import annotations

import numpy as np

DAY_NS = 86_400 * 10 ** 9


class Level:
    """Rows sorted by (code, time) with per-customer window bounds.

    Parameters
    ----------
    codes : int ndarray, sorted ascending
    t_ns : int64 ndarray, nanoseconds, ascending within each code
    n : int, number of customers
    as_ns : int, ``as_of`` in nanoseconds (every ``t_ns < as_ns``)
    days_hint : iterable of int
        Window lengths that will be asked for; their bounds are computed
        together in one pass.
    """

    def __init__(self, codes, t_ns, n, as_ns, days_hint=()):
        self.n, self.as_ns = int(n), int(as_ns)
        self.codes = codes
        self.t_ns = t_ns
        size = np.bincount(codes, minlength=self.n) if len(codes) else np.zeros(self.n, np.int64)
        self.size = size.astype(np.int64)
        self.end = np.cumsum(self.size)
        self.begin = self.end - self.size
        self.days_hint = tuple(sorted(set(int(x) for x in days_hint)))
        self._starts: dict = {}
        self._cums: dict = {}

    def _compute_starts(self, days_list):
        """First row of each customer inside ``[as_of - d, as_of)`` for every ``d``, in one pass.

        Rows are sorted by time within a customer, so the start is ``begin`` plus
        the number of that customer's rows older than ``d`` days (exact to the ns).
        """
        days_list = sorted(set(int(x) for x in days_list))
        thr = np.asarray(days_list, dtype=np.int64) * DAY_NS
        m = len(thr)
        if len(self.codes) == 0:
            for dd in days_list:
                self._starts[dd] = self.begin.copy()
            return
        key = np.searchsorted(thr, self.as_ns - self.t_ns, side="left")      # thresholds below the age
        key += self.codes * (m + 1)
        counts = np.bincount(key, minlength=self.n * (m + 1)).reshape(self.n, m + 1)
        del key
        older = np.zeros(self.n, dtype=np.int64)                             # rows in buckets > j
        for j in range(m - 1, -1, -1):
            older += counts[:, j + 1]
            self._starts[days_list[j]] = self.begin + older

    def __len__(self):
        return len(self.codes)

    @property
    def age_days(self):
        """Days before ``as_of`` of each row (float)."""
        return (self.as_ns - self.t_ns) / DAY_NS

    def start(self, days):
        """Index of each customer's first row with ``t >= as_of - days`` (None: block begin)."""
        if days is None:
            return self.begin
        days = int(days)
        if days not in self._starts:
            self._compute_starts(set(self.days_hint) | {days} - set(self._starts))
        return self._starts[days]

    def bounds(self, days):
        return self.start(days), self.end

    def count(self, days=None, until=None):
        """Rows in ``[as_of - days, as_of - until)`` per customer."""
        e = self.end if until is None else self.start(until)
        return (e - self.start(days)).astype(np.float64)

    def _piece_cums(self, name, x):
        """Per-customer running sums of ``x`` over the pieces, newest first: shape (m + 1, n), row ``k`` the sum
        over ages ``[0, d_{k+1})`` (``d_1 < ... < d_m`` the ``days_hint``, ``d_{m+1} = inf``)."""
        key = ("pieces", name)
        if key not in self._cums:
            days = self.days_hint
            for dd in days:
                self.start(dd)
            # piece starts per customer, oldest first: begin, start(d_m), ..., start(d_1); each piece ends at the
            # next start (the next customer's begin for the newest piece), so the flattened starts are ascending
            flat = np.column_stack([self.begin] + [self._starts[dd] for dd in reversed(days)]).ravel()
            ends = np.append(flat[1:], len(x))
            sums = np.zeros(len(flat))
            nz = ends > flat
            if nz.any():                           # empty pieces dropped: each kept one ends at the next kept start
                sums[nz] = np.add.reduceat(x, flat[nz])
            pieces = sums.reshape(self.n, len(days) + 1)[:, ::-1].T      # (m + 1, n), newest piece first
            self._cums[key] = np.cumsum(pieces, axis=0)                   # each customer's own running sum
        return self._cums[key]

    def sum(self, name, x, days=None, until=None):
        """Sum of ``x`` over each customer's rows in ``[as_of - days, as_of - until)``.

        Partition-exact: built from that customer's piece sums only (see :meth:`_piece_cums`); windows whose
        bounds are not in ``days_hint`` are reduced directly over their rows.
        """
        hint = self.days_hint
        if (days is not None and int(days) not in hint) or (until is not None and int(until) not in hint):
            s, e = self.start(days), (self.end if until is None else self.start(until))
            out = self.reduce(np.add, x, s, e)
            out[e <= s] = 0.0
            return out
        cum = self._piece_cums(name, x)
        hi = len(hint) if days is None else hint.index(int(days))
        if until is None:
            return cum[hi].copy()
        return cum[hi] - cum[hint.index(int(until))]

    def reduce(self, ufunc, x, s, e):
        """``ufunc.reduceat`` over segments ``[s, e)``; NaN where empty."""
        out = np.full(self.n, np.nan)
        nz = e > s
        if not nz.any():
            return out
        idx = np.empty(2 * int(nz.sum()), dtype=np.int64)
        idx[0::2], idx[1::2] = s[nz], e[nz]
        drop_last = idx[-1] >= len(x)
        if drop_last:
            idx = idx[:-1]
        red = ufunc.reduceat(x, idx)
        out[nz] = red[0::2]
        return out

    def centered(self, name, x):
        """``x`` minus its customer's mean over the whole block (cached), for stable variances."""
        key = ("centered", name)
        if key not in self._cums:
            mean = self.reduce(np.add, x, self.begin, self.end) / np.maximum(self.size, 1)
            self._cums[key] = x - mean[self.codes] if len(x) else x
        return self._cums[key]

    def std(self, name, x, s, e, ddof):
        """Standard deviation of ``x`` over segments ``[s, e)`` (NaN with fewer than ``ddof + 1`` rows)."""
        xc = self.centered(name, x)
        k = (e - s).astype(np.float64)
        s1 = np.nan_to_num(self.reduce(np.add, xc, s, e))   # centred per customer: sums stay small
        sq = self._cums.get(("sq", name))
        if sq is None:
            sq = self._cums[("sq", name)] = xc * xc
        s2 = np.nan_to_num(self.reduce(np.add, sq, s, e))
        var = np.clip(s2 - safe_div(s1 * s1, k), 0.0, None)
        return np.where(k >= ddof + 1, np.sqrt(safe_div(var, k - ddof)), np.nan)

    def last(self, x):
        """Value of ``x`` on each customer's last row (NaN if none)."""
        out = np.full(self.n, np.nan)
        has = self.size > 0
        out[has] = x[self.end[has] - 1]
        return out

    def first(self, x):
        out = np.full(self.n, np.nan)
        has = self.size > 0
        out[has] = x[self.begin[has]]
        return out


def run_starts(*arrays):
    """Boolean mask of rows where any of ``arrays`` differs from the previous row."""
    n = len(arrays[0])
    m = np.zeros(n, dtype=bool)
    if n:
        m[0] = True
        for a in arrays:
            m[1:] |= a[1:] != a[:-1]
    return m


def safe_div(a, b):
    """``a / b`` with NaN where ``b == 0``."""
    out = np.full(np.shape(a), np.nan)
    nz = b != 0
    np.divide(a, b, out=out, where=nz)
    return out


def trend(cur, prev):
    """``(cur - prev) / (cur + prev)`` in [-1, 1]; 0 when both are 0."""
    tot = cur + prev
    out = np.zeros(np.shape(cur))
    nz = tot != 0
    np.divide(cur - prev, tot, out=out, where=nz)
    return out
