"""build_features and feature_catalog: the point-in-time customer feature factory.

The integer coding of ids and categories is in ``_codes.py``, the data of one block of customers in ``_blocks.py``
(their names stay importable from here).
"""

from __future__ import annotations

import numbers
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pandas as pd

from crmml._time import warn_if_after_data
from crmml._utils import check_as_of
from crmml._utils._warn import warn_counts
from crmml.exceptions import DroppedCustomersWarning, ParameterError
from crmml.features import _transaction_families  # noqa: F401  (registers families, in this order)
from crmml.features import _other_families  # noqa: F401
from crmml.features._blocks import _block_data, _pairs_level  # noqa: F401
from crmml.features._codes import (_code_range, _codes_in, _codes_labels, _present, _remap,  # noqa: F401
                                   _sorted_order, _union_ids)
from crmml.features._engine import DAY_NS, run_starts
from crmml.features._registry import REGISTRY, FeatureContext, slug
from crmml.schema import MAX_ABS_VALUE, SchemaError, map_frames, validate_customers, validate_events, validate_transactions

__all__ = ["build_features", "feature_catalog", "DEFAULT_WINDOWS"]

#: Default look-back windows in days.
DEFAULT_WINDOWS = (7, 14, 30, 60, 90, 180, 365)
_OWNER = "build_features"


def _check_windows(windows, owner):
    ok = isinstance(windows, (list, tuple, np.ndarray)) and len(windows) > 0 and all(
        isinstance(w, numbers.Integral) and not isinstance(w, bool) and w >= 1 for w in windows)
    if not ok or len(set(int(w) for w in windows)) != len(windows):
        raise ParameterError(f"The 'windows' parameter of {owner} must be a non-empty sequence of distinct "
                             f"ints >= 1 (days). Got {windows!r} instead.")
    return tuple(sorted(int(w) for w in windows))


def _values(values, name, owner):
    if values is None:
        return None
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise ParameterError(f"The {name!r} parameter of {owner} must be None or a sequence of str. "
                             f"Got {values!r} instead.")
    return tuple(values)


def feature_catalog(windows=DEFAULT_WINDOWS, *, event_types=None, channels=(), attributes=None) -> pd.DataFrame:
    """List every feature :func:`build_features` produces for the given settings.

    Parameters
    ----------
    windows : sequence of int, default=(7, 14, 30, 60, 90, 180, 365)
    event_types : sequence of str, optional
        Event types (as in ``events.event_type``); None when no events are given.
    channels : sequence of str, default=()
        Channel values of ``transactions.channel``.
    attributes : sequence of str, optional
        Attribute columns of ``customers``; None when no customers frame is given.

    Returns
    -------
    DataFrame
        Columns ``name``, ``family``, ``window`` (days; <NA> for whole-history
        features) and ``description``, in the column order of ``build_features``.

    Examples
    --------
    >>> from crmml.features import feature_catalog
    >>> cat = feature_catalog()
    >>> len(cat) >= 200, cat.loc[cat["name"] == "amount_sum_90d", "family"].item()
    (True, 'rfm')
    """
    windows = _check_windows(windows, "feature_catalog")
    ev = _values(event_types, "event_types", "feature_catalog")
    ch = _values(channels, "channels", "feature_catalog") or ()
    at = _values(attributes, "attributes", "feature_catalog")
    ctx = FeatureContext(windows, ev or (), ch, at or ())
    req = ("transactions",) + (("events",) if ev is not None else ()) + (("customers",) if at is not None else ())
    return REGISTRY.catalog(ctx, req)


def build_features(transactions, as_of, events=None, customers=None, windows=DEFAULT_WINDOWS, *,
                   event_types=None, channels=None, dtype="float64", n_jobs=2, columns=None,
                   families=None) -> pd.DataFrame:
    """Point-in-time customer features from transactions, events and customer attributes.

    Only rows with ``timestamp < as_of`` are read. Windows ``{w}d`` cover
    ``[as_of - w days, as_of)``. See :func:`feature_catalog` for every feature,
    its family and its description; names follow ``{measure}_{agg}_{window}``.

    **Which customers get a row**: every customer with at least one
    transaction (purchase or return) before ``as_of``, plus every customer of
    ``customers`` whose ``signup_date`` is missing or before ``as_of``. Events
    of other customers are ignored, and so are events without an ``event_type``
    (a :class:`crmml.exceptions.DroppedCustomersWarning` gives their count).
    The index is ``customer_id``, sorted.

    **Partitioning** (bit for bit): each row depends only on that customer's
    rows, so running on any subset of customers, in any customer order, gives
    exactly those rows (every sum is reduced within one customer; none is a
    difference of prefix sums over several customers). A customer's rows are
    taken in the order (timestamp, order given): lines of one customer at the
    same timestamp are summed in the order they appear, so keep each
    customer's rows in the same relative order across runs. The columns must be
    fixed too: pass ``event_types`` and ``channels`` explicitly (they are
    otherwise taken from the rows before ``as_of`` of the customers given), and
    non-numeric attributes are passed through unchanged (not encoded).

    Parameters
    ----------
    transactions : DataFrame
        Standard-schema transactions; ``amount < 0`` rows are returns. Optional
        columns ``quantity``, ``product_id``, ``category``, ``channel`` feed
        their features (NaN when absent). Missing amounts count as 0. A purchase
        occasion's channel is the channel of its first line. A line with a missing
        ``category`` or ``channel`` counts in every other feature but is no
        category or channel of its own: it adds nothing to ``category_nunique``
        or ``channel_nunique``, and the ``channel_{value}_share`` columns are
        shares of all occasions, so they sum to less than 1 when some occasions
        have no channel.
    as_of : timestamp or str
    events : DataFrame, optional
        Standard-schema events (``event_type``).
    customers : DataFrame, optional
        Standard-schema customers; ``signup_date`` gives ``signup_tenure_all``,
        other columns become ``attr_{column}`` features.
    windows : sequence of int, default=(7, 14, 30, 60, 90, 180, 365)
    event_types, channels : sequence of str, optional
        Fix the per-type and per-channel columns (default: the values present
        before ``as_of``).
    dtype : {"float64", "float32"}, default="float64"
        Storage of the numeric features (``float32`` halves memory).
    n_jobs : int, default=2
        Threads (results do not depend on it). Customers are processed in blocks of consecutive
        customers (about 2M transaction lines per block, divided by ``n_jobs``), which bounds memory;
        the threads work on different blocks, or on the feature families of a single block.
    columns : dict, optional
        Your column names -> canonical names, applied to every frame given (or one dict per frame name,
        e.g. ``{"events": {...}}``); see :func:`crmml.schema.map_frames`.
    families : sequence of str, optional
        Compute only these feature families (names in :func:`feature_catalog`'s ``family`` column, e.g.
        ``["rfm", "lifetime"]``); default: all. The rows and each column's values are the same as in the
        full table; work that only other families need (distinct products, channels, events) is skipped.

    Returns
    -------
    DataFrame indexed by ``customer_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.features import build_features
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-02-20", "2024-02-25", "2024-04-01"]),
    ...                    "amount": [20.0, 35.0, 12.0, 50.0]})
    >>> f = build_features(tx, "2024-03-01")
    >>> f[["purchase_count_30d", "amount_sum_90d", "purchase_recency_all"]]
                 purchase_count_30d  amount_sum_90d  purchase_recency_all
    customer_id
    1                           1.0            55.0                  10.0
    2                           1.0            12.0                   5.0
    """
    as_of = check_as_of(as_of, _OWNER)
    windows = _check_windows(windows, _OWNER)
    event_types = _values(event_types, "event_types", _OWNER)
    channels = _values(channels, "channels", _OWNER)
    if not isinstance(n_jobs, numbers.Integral) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ParameterError(f"The 'n_jobs' parameter of {_OWNER} must be an int >= 1. Got {n_jobs!r} instead.")
    families = _check_families(families)
    if dtype not in ("float64", "float32"):
        raise ParameterError(f"The 'dtype' parameter of {_OWNER} must be one of ['float64', 'float32']. "
                             f"Got {dtype!r} instead.")
    if columns:
        f = map_frames(columns, transactions=transactions, events=events, customers=customers)
        transactions, events, customers = f["transactions"], f["events"], f["customers"]
    tx = transactions if _is_canonical(transactions, "amount") else validate_transactions(
        transactions, allow_missing_amount=True)
    ev = None if events is None else events if _is_canonical(events, "event_type") else validate_events(events)
    cu = validate_customers(customers) if customers is not None else None
    warn_if_after_data(as_of, tx["timestamp"])          # as rfm_table, CLVModel and NextBestOffer do
    return compute_features(tx, as_of, ev, cu, windows, event_types=event_types, channels=channels, dtype=dtype,
                            n_jobs=n_jobs, families=families)


def _check_families(families):
    """None, or the tuple of requested family names (each one of the registry's)."""
    if families is None:
        return None
    known = [f.name for f in REGISTRY]
    names = (families,) if isinstance(families, str) else tuple(families)
    unknown = [f for f in names if f not in known]
    if not names or unknown:
        raise ParameterError(f"The 'families' parameter of {_OWNER} must be a non-empty list of {known}. "
                             f"Got {families!r} instead.")
    return names


def _is_canonical(df, third) -> bool:
    """True when ``df`` already has the canonical dtypes and no invalid values, so validating
    (which copies the frame) can be skipped: a large saving of time and memory on big logs."""
    if not isinstance(df, pd.DataFrame) or len(df) == 0 or not {"customer_id", "timestamp", third} <= set(df):
        return False
    cid, ts = df["customer_id"], df["timestamp"]
    if not (cid.dtype == np.int64 or cid.dtype == "str") or cid.isna().any():      # object ids: the id rule
        return False
    if ts.dtype != np.dtype("datetime64[ns]") or ts.isna().any():
        return False
    if third == "amount":
        a = df["amount"]
        q = df["quantity"] if "quantity" in df.columns else None
        if a.dtype != np.float64 or (q is not None and q.dtype != np.float64):
            return False
        v = a.to_numpy()                               # fmin/fmax skip NaN (a missing amount counts as 0)
        return not (np.fmax.reduce(v) > MAX_ABS_VALUE or np.fmin.reduce(v) < -MAX_ABS_VALUE)
    return not df[third].isna().any()


#: Transaction lines (before ``as_of``) per customer block: features are computed block by block of
#: consecutive customers, which bounds the temporaries (piece sums, window bounds, gathered columns) whatever
#: the size of the log. Every feature depends only on its customer's rows, so blocks give the same values.
_BLOCK_ROWS = 2_000_000


def _block_edges(code, n, n_rows, block_rows):
    """Customer-code edges of blocks holding about ``block_rows`` lines each (``code`` sorted)."""
    n_blocks = max(1, min(n, -(-n_rows // max(int(block_rows), 1))))
    if n_blocks == 1:
        return np.array([0, n])
    # split at quantiles of the lines, so blocks hold similar numbers of rows
    cut = code[np.linspace(0, n_rows, n_blocks + 1)[1:-1].astype(np.int64)].astype(np.int64)
    return np.unique(np.concatenate([[0], cut, [n]]))


def compute_features(tx, as_of, ev=None, cu=None, windows=DEFAULT_WINDOWS, *, event_types=None, channels=None,
                     dtype="float64", n_jobs=2, families=None) -> pd.DataFrame:
    """:func:`build_features` on frames that are already validated (no checks of the frames; ``as_of`` by crmml's
    cut-off rule, a number or an out-of-range date raises ``AsOfError``).

    >>> import pandas as pd
    >>> from crmml.schema import validate_transactions
    >>> tx = validate_transactions(pd.DataFrame({"customer_id": [1, 1, 2], "amount": [20.0, 35.0, 12.0],
    ...     "timestamp": pd.to_datetime(["2024-01-10", "2024-02-20", "2024-02-01"])}))
    >>> compute_features(tx, pd.Timestamp("2024-03-01"), windows=(30,))["amount_sum_30d"].tolist()
    [35.0, 12.0]
    """
    as_of = check_as_of(as_of, "compute_features")
    as_ns = int(as_of.value)
    t_all = tx["timestamp"].to_numpy("datetime64[ns]").view(np.int64)
    keep = t_all < as_ns
    rows = np.flatnonzero(keep)                        # positions of the rows read, in the original frame
    if len(tx) < 2**31:
        rows = rows.astype(np.int32)
    del keep
    t = t_all[rows]
    codes_f, uniq = pd.factorize(tx["customer_id"].to_numpy()[rows])
    uniq = np.asarray(uniq)
    cu_ids = None
    if cu is not None:
        elig = np.ones(len(cu), bool)
        if "signup_date" in cu.columns:
            sd = cu["signup_date"].to_numpy("datetime64[ns]")
            elig = np.isnat(sd) | (sd < as_of.to_datetime64())
        cu = cu.loc[elig]
        cu_ids = cu["customer_id"].to_numpy()
    universe = _union_ids(uniq, cu_ids)
    n = len(universe)
    if n == 0:
        raise SchemaError("transactions", "timestamp", f"no transaction before as_of={as_of} and no customers")
    code_map, _ = _codes_in(universe, uniq)
    code = code_map.astype(np.int32 if n < 2**31 else np.int64)[codes_f]
    del codes_f, code_map
    order = _sorted_order(code, t)
    if order is not None:
        code, t, rows = code[order], t[order], rows[order]
        del order
    hint = set(windows) | {2 * w for w in windows}
    wanted = {f.name for f in REGISTRY} if families is None else set(families)
    if channels and "channel" in wanted and "channel" not in tx.columns:
        # per-channel shares of purchases whose channel is not recorded: refused, not NaN or 0 (a model trained
        # with them would score without them silently; crmml score and crmml.spark pass the model's channels)
        raise SchemaError("transactions", "channel", f"the column is missing, but channels={list(channels)[:5]} "
                          "asks for the share of purchases in each channel (a model trained with channel features "
                          "needs it); add the transactions' channel column, or pass channels=None")
    if "events" not in wanted:
        ev = None                                  # the rows still come from transactions and customers
    # coded columns, factorised once for the whole log (int32 codes), gathered per block; only those a
    # requested family reads (distinct products / categories: diversity; channels: channel)
    coded = {}
    for name, fam in (("product_id", "diversity"), ("category", "diversity"), ("channel", "channel")):
        if name in tx.columns and fam in wanted:
            c, labels = _codes_labels(tx[name])
            coded[name] = (c.astype(np.int32) if len(labels) < 2**31 else c, labels)
    if "channel" in coded and channels is None:      # channels of purchase occasions (first line), all customers
        ch_codes, labels = coded["channel"]
        amt = tx["amount"].to_numpy()[rows]
        pm = ~(amt < 0)
        del amt
        pc, pt = code[pm], t[pm]
        first = np.flatnonzero(run_starts(pc, pt))
        channels = _present(ch_codes[rows[pm][first]].astype(np.int64), labels)
        del pm, pc, pt, first
    channels = tuple(channels) if channels is not None else None

    # events: sorted once by (customer, time), sliced per block
    evd = None
    if ev is not None:
        et = ev["timestamp"].to_numpy("datetime64[ns]").view(np.int64)
        ek = et < as_ns
        ecode, found = _codes_in(universe, ev["customer_id"].to_numpy()[ek])
        tcodes, labels = _codes_labels(ev["event_type"])
        tcodes = tcodes[ek][found]
        if (untyped := int(np.count_nonzero(tcodes < 0))):
            warn_counts(DroppedCustomersWarning, "build_features: {n:,} events before as_of have no event_type; they "
                        "are not counted in any event feature. Fill event_type to count them.", n=untyped,
                        stacklevel=3)
        ecode, et = ecode[found], et[ek][found]
        types = event_types if event_types is not None else _present(tcodes, labels)
        eo = _sorted_order(ecode, et)
        if eo is not None:
            ecode, et, tcodes = ecode[eo], et[eo], tcodes[eo]
        evd = (ecode, et, _remap(tcodes, labels, types), tuple(slug(x) for x in types))
        event_types = types

    # customer attributes: one value per customer, computed once
    attr = SimpleNamespace(attribute_cols=(), attribute_slugs=(), attributes={}, n=n)
    if cu is not None:
        pos, _ = _codes_in(universe, cu["customer_id"].to_numpy())
        attr.signup_age = np.full(n, np.nan)
        if "signup_date" in cu.columns:
            sd = cu["signup_date"].to_numpy("datetime64[ns]").view(np.int64).astype(np.float64)
            sd[np.isnat(cu["signup_date"].to_numpy("datetime64[ns]"))] = np.nan
            attr.signup_age[pos] = (as_ns - sd) / DAY_NS
        attr.attribute_cols = tuple(c for c in cu.columns if c not in ("customer_id", "signup_date"))
        attr.attribute_slugs = tuple(slug(c) for c in attr.attribute_cols)
        for c in attr.attribute_cols:
            s = cu[c]
            if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
                out = np.full(n, np.nan)
                out[pos] = s.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                out = pd.Series(s.array, index=pos).reindex(np.arange(n))
            attr.attributes[c] = out

    ctx = FeatureContext(windows, tuple(event_types or ()), tuple(channels or ()), attr.attribute_slugs)
    req = ("transactions",) + (("events",) if ev is not None else ()) + (("customers",) if cu is not None else ())
    families = [f for f in REGISTRY if f.requires in req and f.name in wanted]
    names = [nm for f in families for nm in f.names(ctx)]
    numeric_names = [nm for nm in names if not nm.startswith("attr_")]
    block = np.empty((len(numeric_names), n), dtype=dtype)
    row = {nm: i for i, nm in enumerate(numeric_names)}
    objects = {}

    def store(fam, d, c0, c1):
        vals = fam.compute(d, ctx)
        expected = fam.names(ctx)
        if set(vals) != set(expected):  # pragma: no cover - registry bug guard
            raise RuntimeError(f"feature family {fam.name!r} computed {sorted(set(vals) ^ set(expected))[:5]} "
                               "that its templates do not declare")
        for nm, v in vals.items():
            if nm in row:
                block[row[nm], c0:c1] = v          # distinct rows per family: safe across threads
            else:
                objects[nm] = v

    per_customer = [f for f in families if f.requires != "customers"]

    def one_block(c0, c1, pool=None):
        c0, c1 = int(c0), int(c1)
        d = _block_data(tx, code, t, rows, coded, channels, evd, c0, c1, as_ns, hint)
        # window bounds first (shared by all families), then the families
        for lev in (d.lines, d.occ, d.days, d.ret, d.prod_pairs, d.cat_pairs, d.chan_pairs, *d.event_levels):
            if lev is not None:
                lev.start(windows[0])
        if pool is not None:
            list(pool.map(lambda f: store(f, d, c0, c1), per_customer))
        else:
            for fam in per_customer:
                store(fam, d, c0, c1)

    # n_jobs threads (numpy releases the GIL in the heavy array operations): on several blocks at once
    # (blocks n_jobs times smaller, so memory stays bounded the same way), or on the families of a single block
    edges = _block_edges(code, n, len(code), _BLOCK_ROWS // max(n_jobs, 1))
    pairs = list(zip(edges[:-1], edges[1:]))
    if n_jobs > 1 and len(pairs) > 1:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            list(pool.map(lambda e: one_block(*e), pairs))
    elif n_jobs > 1:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            one_block(*pairs[0], pool=pool)
    else:
        for c0, c1 in pairs:
            one_block(c0, c1)
    for fam in families:
        if fam.requires == "customers":
            store(fam, attr, 0, n)
    index = pd.Index(universe, name="customer_id")
    out = pd.DataFrame(block.T, index=index, columns=numeric_names, copy=False)
    for nm, v in objects.items():
        out[nm] = v.set_axis(index) if isinstance(v, pd.Series) else v
    return out if list(out.columns) == names else out[names]
