"""The data of one block of consecutive customers: the :class:`~crmml.features._engine.Level` of each row kind
(purchase lines, occasions, days, returns, distinct products/categories/channels, events) that the
per-customer feature families read.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from crmml.features._codes import _code_range, _remap
from crmml.features._engine import DAY_NS, Level, run_starts
from crmml.features._registry import slug


def _pairs_level(code, key2, n2, t, n, as_ns, hint):
    """Level of the last row of each (customer, value) pair, for distinct counts."""
    ok = key2 >= 0
    if not ok.all():                               # skip three large copies in the common case
        code, key2, t = code[ok], key2[ok], t[ok]
    k = code * np.int64(max(n2, 1)) + key2
    if n * max(n2, 1) <= max(2 * len(k), 1_000_000):   # dense: the last writer wins in numpy assignment
        last_pos = np.full(n * max(n2, 1), -1, dtype=np.int64)
        last_pos[k] = np.arange(len(k))
        last = np.zeros(len(k), dtype=bool)
        last[last_pos[last_pos >= 0]] = True
    else:
        last = ~pd.Series(k).duplicated(keep="last").to_numpy()
    return Level(code[last], t[last], n, as_ns, hint)


def _block_data(tx, code, t, rows, coded, channels, evd, c0, c1, as_ns, hint):
    """Everything the per-customer families read, for customers with codes in ``[c0, c1)``."""
    n = c1 - c0
    lo, hi = _code_range(code, c0, c1)
    r = rows[lo:hi]
    code = np.subtract(code[lo:hi], c0, dtype=np.int64)
    t = t[lo:hi]

    def col(name):
        return tx[name].to_numpy()[r] if name in tx.columns else None

    amount = np.asarray(col("amount"), dtype=np.float64)
    is_ret = amount < 0                            # NaN compares False: a missing amount is a purchase
    amount0 = np.nan_to_num(amount, nan=0.0)
    del amount
    d = SimpleNamespace(n=n, as_ns=as_ns)

    # purchase lines and occasions
    p = ~is_ret
    pc, pt, pa = code[p], t[p], amount0[p]
    d.lines = Level(pc, pt, n, as_ns, hint)
    d.has_qty = "quantity" in tx.columns
    d.line_qty = np.nan_to_num(np.asarray(col("quantity"), np.float64)[p]) if d.has_qty else None
    starts = np.flatnonzero(run_starts(pc, pt))
    d.occ = Level(pc[starts], pt[starts], n, as_ns, hint)
    d.occ_value = np.add.reduceat(pa, starts) if len(starts) else np.zeros(0)
    d.occ_lines = np.diff(np.append(starts, len(pc))).astype(np.float64)
    day = d.occ.t_ns // DAY_NS
    d.occ_weekend = (((day + 3) % 7) >= 5).astype(np.float64)
    same = np.zeros(len(starts), bool)
    same[1:] = d.occ.codes[1:] == d.occ.codes[:-1]
    d.gap0 = np.zeros(len(starts))
    d.gap0[1:] = np.diff(d.occ.t_ns) / DAY_NS
    d.gap0[~same] = 0.0
    last_of_day = np.ones(len(starts), bool)
    last_of_day[:-1] = run_starts(d.occ.codes, day)[1:]
    d.days = Level(d.occ.codes[last_of_day], d.occ.t_ns[last_of_day], n, as_ns, hint)

    # distinct products / categories / channels
    d.prod_pairs = d.cat_pairs = d.chan_pairs = None
    if "product_id" in coded:
        k2, labels = coded["product_id"]
        d.prod_pairs = _pairs_level(pc, k2[r[p]].astype(np.int64), len(labels), pt, n, as_ns, hint)
    if "category" in coded:
        k2, labels = coded["category"]
        d.cat_pairs = _pairs_level(pc, k2[r[p]].astype(np.int64), len(labels), pt, n, as_ns, hint)
    d.channel_slugs, d.occ_channel = (), None
    if "channel" in coded:
        k2, labels = coded["channel"]
        k2 = k2[r[p][starts]].astype(np.int64)
        d.channel_slugs = tuple(slug(c) for c in channels)
        d.occ_channel = _remap(k2, labels, channels)
        d.chan_pairs = _pairs_level(d.occ.codes, d.occ_channel, len(channels), d.occ.t_ns, n, as_ns, hint)

    # returns
    d.ret = Level(code[is_ret], t[is_ret], n, as_ns, hint)
    d.ret_amount = -amount0[is_ret]

    # events
    d.event_slugs, d.event_levels = (), ()
    if evd is not None:
        ecode, et, tcode, d.event_slugs = evd
        elo, ehi = _code_range(ecode, c0, c1)
        ecode, et, tcode = ecode[elo:ehi] - c0, et[elo:ehi], tcode[elo:ehi]
        d.event_levels = tuple(Level(ecode[tcode == j], et[tcode == j], n, as_ns, hint)
                               for j in range(len(d.event_slugs)))
    return d
