"""The named RFM segment map: the default 11-segment table and its evaluation on every (R, F, M) score cell."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml.exceptions import ParameterError

__all__ = ["DEFAULT_RFM_SEGMENTS", "default_rfm_segments"]

_SEGMENT_ROWS = [
    # segment, r_min, r_max, fm_min, fm_max, description
    ("Champions", 5, 5, 4, 5, "bought recently, buy often and spend the most"),
    ("Loyal Customers", 3, 4, 4, 5, "buy often and spend well; not the very latest buyers"),
    ("Potential Loyalist", 4, 5, 2, 3, "recent customers with average frequency and spend"),
    ("New Customers", 5, 5, 1, 1, "bought very recently, once or for little"),
    ("Promising", 4, 4, 1, 1, "recent shoppers who have not spent much yet"),
    ("Need Attention", 3, 3, 2, 3, "middling recency, frequency and spend"),
    ("About to Sleep", 3, 3, 1, 1, "below average; will be lost if not reactivated"),
    ("At Risk", 2, 2, 3, 5, "spent well and bought often, but long ago"),
    ("At Risk", 1, 1, 3, 3, "spent well and bought often, but long ago"),
    ("Can't Lose Them", 1, 1, 4, 5, "made big and frequent purchases, but not for a long time"),
    ("Hibernating", 2, 2, 1, 2, "last purchase long ago, low frequency and spend"),
    ("Lost", 1, 1, 1, 2, "lowest recency, frequency and spend"),
]

DEFAULT_RFM_SEGMENTS = pd.DataFrame(_SEGMENT_ROWS, columns=["segment", "r_min", "r_max", "fm_min", "fm_max",
                                                            "description"])
"""The default RFM segment map (read-only; copy it with :func:`default_rfm_segments` to edit).

Rows are rules on the recency score ``R`` and ``FM = ceil((F + M) / 2)``, the rounded-up mean of the frequency
and monetary scores, all in 1..5 (5 = best). The names follow the widely used 11-segment RFM map (Putler; the R
package ``rfm``), whose published ranges overlap; here they are made into a partition, so each of the 125
(R, F, M) cells maps to exactly one segment::

         FM=1            FM=2                FM=3                FM=4             FM=5
    R=5  New Customers   Potential Loyalist  Potential Loyalist  Champions        Champions
    R=4  Promising       Potential Loyalist  Potential Loyalist  Loyal Customers  Loyal Customers
    R=3  About to Sleep  Need Attention      Need Attention      Loyal Customers  Loyal Customers
    R=2  Hibernating     Hibernating         At Risk             At Risk          At Risk
    R=1  Lost            Lost                At Risk             Can't Lose Them  Can't Lose Them

A custom table may use any of the bound columns ``r_min/r_max``, ``f_min/f_max``, ``m_min/m_max``,
``fm_min/fm_max`` (a missing bound means no limit) and must also cover every cell exactly once.
"""


def default_rfm_segments() -> pd.DataFrame:
    """An editable copy of :data:`DEFAULT_RFM_SEGMENTS`.

    >>> t = default_rfm_segments()
    >>> t["segment"].drop_duplicates().tolist()[:3]
    ['Champions', 'Loyal Customers', 'Potential Loyalist']
    """
    return DEFAULT_RFM_SEGMENTS.copy()


_BOUNDS = ("r", "f", "m", "fm")


def _segment_lookup(table: pd.DataFrame, n: int) -> tuple[np.ndarray, list[str]]:
    """Evaluate the rule table on every (R, F, M) cell; a (n, n, n) array of segment codes."""
    owner = "RFMSegmenter"
    if not isinstance(table, pd.DataFrame) or "segment" not in table.columns:
        raise ParameterError(f"The 'segments' parameter of {owner} must be a DataFrame with a 'segment' column and "
                             f"bound columns such as r_min, r_max, fm_min, fm_max. Got {type(table).__name__} instead.")
    known = {"segment", "description"} | {f"{b}_{s}" for b in _BOUNDS for s in ("min", "max")}
    extra = sorted(set(table.columns) - known)
    if extra:
        raise ParameterError(f"The 'segments' table of {owner} has unknown columns {extra}; allowed: {sorted(known)}.")
    g = np.arange(1, n + 1)
    r, f, m = np.meshgrid(g, g, g, indexing="ij")
    cells = {"r": r, "f": f, "m": m, "fm": (f + m + 1) // 2}
    names = list(dict.fromkeys(table["segment"].astype(str)))
    lut = np.full((n, n, n), -1, dtype=np.int64)
    hits = np.zeros((n, n, n), dtype=np.int64)
    for row in table.itertuples(index=False):
        row = row._asdict()
        mask = np.ones((n, n, n), dtype=bool)
        for b in _BOUNDS:
            lo, hi = row.get(f"{b}_min"), row.get(f"{b}_max")
            if lo is not None and not pd.isna(lo):
                mask &= cells[b] >= lo
            if hi is not None and not pd.isna(hi):
                mask &= cells[b] <= hi
        lut[mask] = names.index(str(row["segment"]))
        hits += mask
    for bad, what in ((hits == 0, "no segment"), (hits > 1, "more than one segment")):
        if bad.any():
            ex = [f"R{a + 1}F{b + 1}M{c + 1}" for a, b, c in np.argwhere(bad)[:5]]
            raise ParameterError(f"The 'segments' table of {owner} must map every (R, F, M) score cell to exactly "
                                 f"one segment; {int(bad.sum())} cells map to {what}, e.g. {ex}.")
    return lut, names
