"""Lead features: attribute encoding (learned in fit) and point-in-time engagement features from events."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmml._utils import check_as_of, numeric_values
from crmml.exceptions import DroppedCustomersWarning, ParameterError
from crmml.schema import SchemaError, validate_events

__all__ = ["lead_event_features", "resolve_score_time", "event_types_before", "attribute_kind", "dates_as_text",
           "attribute_columns"]

#: Columns of a leads frame that are never attributes.
RESERVED = ("lead_id", "converted", "created_at", "score_time")
OTHER, MISSING = "__other__", "__missing__"


def resolve_score_time(leads: pd.DataFrame, as_of=None, owner: str = "lead_event_features") -> np.ndarray:
    """Each lead's scoring time: the ``score_time`` column if present, else the global ``as_of``.

    Only events strictly before this time are read. Raises ValueError when neither is given.
    """
    if "score_time" in leads.columns:
        st = pd.to_datetime(leads["score_time"])
        if isinstance(st.dtype, pd.DatetimeTZDtype):
            st = st.dt.tz_convert("UTC").dt.tz_localize(None)
        if st.isna().any():
            if as_of is None:
                raise SchemaError("leads", "score_time", "missing scoring times and no as_of to fill them",
                                  int(st.isna().sum()), [None])
            st = st.fillna(check_as_of(as_of, owner))
        return st.to_numpy(dtype="datetime64[ns]")
    if as_of is None:
        raise ParameterError(f"The 'as_of' parameter of {owner} is required when events are given and the leads "
                             "have no 'score_time' column: only events before the scoring time may be read. "
                             "Got None instead.")
    return np.full(len(leads), check_as_of(as_of, owner).to_datetime64(), dtype="datetime64[ns]")


def event_types_before(leads: pd.DataFrame, events: pd.DataFrame, as_of=None) -> list:
    """The event types of (prepared) ``events`` before the latest scoring time of ``leads``, sorted: the default
    columns of :func:`lead_event_features`. Types that appear only at or after every scoring time make no column."""
    st = resolve_score_time(leads, as_of)
    if len(st) == 0:
        return []
    return sorted(events.loc[events["timestamp"].to_numpy() < st.max(), "event_type"].unique().tolist())


def _slug(s) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", str(s)).strip("_").lower() or "blank"


def prepare_events(events: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Validate lead events: key ``lead_id`` (or ``customer_id`` holding the lead id), ``timestamp``, ``event_type``."""
    if not isinstance(events, pd.DataFrame):
        raise SchemaError("events", None, f"expected a pandas DataFrame, got {type(events).__name__}")
    ev = events.rename(columns=dict(columns)) if columns else events
    if "lead_id" in ev.columns and "customer_id" not in ev.columns:
        ev = ev.rename(columns={"lead_id": "customer_id"})
    if len(ev) == 0:
        return pd.DataFrame({"lead_id": pd.Series(dtype="int64"),
                             "timestamp": pd.Series(dtype="datetime64[ns]"),
                             "event_type": pd.Series(dtype="str")})
    out = validate_events(ev[[c for c in ("customer_id", "timestamp", "event_type") if c in ev.columns]])
    out = out.rename(columns={"customer_id": "lead_id"})
    untyped = out["event_type"].isna()
    if untyped.any():
        warnings.warn(f"lead events: {int(untyped.sum()):,} of {len(out):,} events have no event_type; they are not "
                      "counted in any event feature. Fill event_type to count them.", DroppedCustomersWarning,
                      stacklevel=3)
        out = out[~untyped.to_numpy()]
    out["event_type"] = out["event_type"].astype(str)
    return out


def lead_event_features(leads: pd.DataFrame, events: pd.DataFrame, *, as_of=None, event_types=None,
                        columns=None) -> pd.DataFrame:
    """Engagement features of each lead from its events before its scoring time.

    The scoring time of a lead is its ``score_time`` column when the leads
    frame has one, otherwise the global ``as_of``. Only events with
    ``timestamp < scoring time`` are read (point in time). Per lead, so the
    result is partitionable by lead.

    Parameters
    ----------
    leads : DataFrame
        Standard leads frame (``lead_id``; optional ``score_time``).
    events : DataFrame
        Lead events with ``lead_id`` (or ``customer_id`` holding the lead id),
        ``timestamp`` and ``event_type``, e.g. ``make_synthetic_crm(...).lead_events``.
        Events without an ``event_type`` are not counted (a
        :class:`crmml.exceptions.DroppedCustomersWarning` gives their count).
    as_of : timestamp, optional
        Global scoring time, used when ``leads`` has no ``score_time``.
    event_types : list of str, optional
        Event types to count (default: the types present in ``events`` before the latest scoring time).
        Events of other types count in ``events_total_count``, ``events_7d_count`` and
        ``days_since_last_event`` only; events of leads that are not in ``leads`` are ignored.
    columns : dict, optional
        Mapping of the events' column names onto the canonical ones.

    Returns
    -------
    DataFrame indexed by ``lead_id`` with ``events_<type>_count`` per type,
    ``events_total_count``, ``events_7d_count`` (in the 7 days before the
    scoring time) and ``days_since_last_event`` (NaN for leads without events).

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": [1, 2]})
    >>> ev = pd.DataFrame({"lead_id": [1, 1, 2], "event_type": ["visit", "visit", "email"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-02-01"])})
    >>> lead_event_features(leads, ev, as_of="2024-01-10")[["events_visit_count", "days_since_last_event"]]
             events_visit_count  days_since_last_event
    lead_id
    1                       2.0                    1.0
    2                       0.0                    NaN
    """
    ev = prepare_events(events, columns)
    ids = leads["lead_id"].to_numpy()
    st = resolve_score_time(leads, as_of)
    types = event_types_before(leads, ev, as_of) if event_types is None else list(event_types)
    idx = pd.Index(ids, name="lead_id")
    pos = idx.get_indexer(ev["lead_id"].to_numpy())
    keep = pos >= 0
    ev, pos = ev.loc[keep], pos[keep]
    before = ev["timestamp"].to_numpy() < st[pos]
    ev, pos = ev.loc[before], pos[before]
    age_days = (st[pos] - ev["timestamp"].to_numpy()) / np.timedelta64(1, "D")
    n = len(ids)
    out = {}
    etype = ev["event_type"].to_numpy()
    for t in types:
        out[f"events_{_slug(t)}_count"] = np.bincount(pos[etype == t], minlength=n).astype(float)
    out["events_total_count"] = np.bincount(pos, minlength=n).astype(float)
    out["events_7d_count"] = np.bincount(pos[age_days <= 7], minlength=n).astype(float)
    last = np.full(n, np.inf)
    np.minimum.at(last, pos, age_days)
    out["days_since_last_event"] = np.where(np.isinf(last), np.nan, last)
    return pd.DataFrame(out, index=idx)


def attribute_kind(dtype) -> str | None:
    """How a lead attribute of this dtype is encoded: ``"numeric"``, ``"categorical"`` or None (no feature).

    Numbers and booleans are numeric; text, categories and objects categorical. Dates, durations, periods,
    intervals, bytes and nested values are no feature: nothing in them is a number or a level that means the
    same for a later lead (a date is a point in time, not an amount).

    >>> [attribute_kind(pd.Series(v).dtype) for v in ([1.5], [True], ["a"], pd.to_datetime(["2024-01-01"]))]
    ['numeric', 'numeric', 'categorical', None]
    """
    if pd.api.types.is_bool_dtype(dtype) or (pd.api.types.is_numeric_dtype(dtype)
                                              and not isinstance(dtype, pd.CategoricalDtype)):
        return "numeric"
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype) \
            or pd.api.types.is_object_dtype(dtype):
        return "categorical"
    return None


#: Text that is a date (ISO ``2024-01-05``, ``2024-01-05 10:30[:00]``, ``T``/zone suffixes; ``05/01/2024``).
_DATE_TEXT = (r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
              r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}(?: \d{1,2}:\d{2}(?::\d{2})?)?")


def dates_as_text(s: pd.Series) -> bool:
    """True for a text column whose distinct values (at most 1,000 read) are dates, 95% or more of them (a CSV's
    dates: a date column read from a file is text).

    >>> dates_as_text(pd.Series(["2024-01-05", "2024-02-11 10:30", None])), dates_as_text(pd.Series(["A", "B"]))
    (True, False)
    """
    if attribute_kind(s.dtype) != "categorical":
        return False
    values = pd.Series(pd.unique(s.dropna().to_numpy(dtype=object))[:1000], dtype=object)
    text = values[values.map(type) == str].str.strip()
    return bool(len(text) > 0 and len(text) == len(values) and text.str.fullmatch(_DATE_TEXT).mean() >= 0.95)


def attribute_columns(leads: pd.DataFrame, exclude=(), owner: str = "LeadScorer.fit") -> list:
    """The attribute columns of ``leads``: every column but :data:`RESERVED` and ``exclude`` that
    :func:`attribute_kind` can encode and that does not hold dates as text (:func:`dates_as_text`).

    The other columns (a ``last_contact_date``, as dates or as a CSV's date text, a duration) are left out with a
    :class:`~crmml.exceptions.DroppedCustomersWarning` naming them, their dtypes and the fix: derive a number
    known when the lead is scored (days from the date to ``created_at``), or ``exclude=`` them.

    >>> import warnings
    >>> leads = pd.DataFrame({"lead_id": [1], "size": [3.0], "last_contact_date": pd.to_datetime(["2024-01-01"])})
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     attribute_columns(leads)
    ['size']
    >>> print(w[0].message)  # doctest: +ELLIPSIS
    LeadScorer.fit: 1 column of the leads is not a feature ...: 'last_contact_date' (datetime64[...]). ...
    """
    skip = set(RESERVED) | set(exclude or ())
    candidates = [c for c in leads.columns if c not in skip]
    ignored = [c for c in candidates if attribute_kind(leads[c].dtype) is None or dates_as_text(leads[c])]
    if ignored:
        what = "columns of the leads are not features" if len(ignored) > 1 else "column of the leads is not a feature"
        kind = {c: "dates as text" if attribute_kind(leads[c].dtype) else str(leads[c].dtype) for c in ignored}
        names = ", ".join(f"{c!r} ({kind[c]})" for c in ignored[:10]) + (", ..." if len(ignored) > 10 else "")
        warnings.warn(f"{owner}: {len(ignored)} {what} (a model reads numbers, booleans and text, not dates, "
                      f"durations or other values): {names}. If one matters, derive a number known when a lead "
                      "is scored (e.g. the days from the date to created_at) and pass that column; "
                      f"exclude={ignored[:10]!r} says you mean to leave them out and silences this.",
                      DroppedCustomersWarning, stacklevel=3)
    return [c for c in candidates if c not in ignored]


class LeadEncoder(BaseEstimator):
    """Encode lead attributes into a numeric matrix (learned in fit, applied per lead).

    Numeric columns: median imputation plus a ``<col>__missing`` indicator when
    the column had missing values in fit. Categorical columns: one-hot over the
    levels seen at least ``max(5, min_category_frequency * n)`` times (at most
    ``max_categories``); rarer levels and levels unseen at fit go to
    ``__other__``, missing values to ``__missing__`` (or ``__other__`` if fit
    saw none).
    Columns of any other dtype (:func:`attribute_kind` None) are not encoded;
    :func:`attribute_columns` keeps them out of ``X`` and names them.
    """

    def __init__(self, min_category_frequency: float = 0.005, max_categories: int = 30):
        self.min_category_frequency = min_category_frequency
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame):
        n = len(X)
        self.numeric_, self.categorical_, self.medians_, self.levels_ = [], [], {}, {}
        self.numeric_missing_ = []
        for col in X.columns:
            s = X[col]
            kind = attribute_kind(s.dtype)
            if kind == "numeric":
                v = s.astype(float)
                self.numeric_.append(col)
                med = float(v.median()) if v.notna().any() else 0.0
                self.medians_[col] = med
                if v.isna().any():
                    self.numeric_missing_.append(col)
            elif kind == "categorical":
                self.categorical_.append(col)
                counts = s.dropna().astype(str).value_counts()
                min_count = max(5, math.ceil(self.min_category_frequency * n))
                kept = counts[counts >= min_count].index[: self.max_categories]
                levels = [str(v) for v in kept] + [OTHER]
                if s.isna().any():
                    levels.append(MISSING)
                self.levels_[col] = levels
            # other dtypes are no feature: LeadScorer.fit leaves them out of X with a warning (attribute_columns)
        names, source = [], []
        for col in self.numeric_:
            names.append(col)
            source.append(col)
            if col in self.numeric_missing_:
                names.append(f"{col}__missing")
                source.append(col)
        for col in self.categorical_:
            for lev in self.levels_[col]:
                names.append(f"{col}={lev}")
                source.append(col)
        self.feature_names_ = names
        self.feature_source_ = source
        self.is_numeric_ = np.array([n in self.numeric_ for n in names], dtype=bool)
        self.columns_ = list(self.numeric_) + list(self.categorical_)
        return self

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load`` (checks in ``crmml.scoring._loaded``)."""
        from crmml.scoring._loaded import check_lead_encoder

        check_lead_encoder(self)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Encode ``X`` (absent columns are taken as missing on every row).

        Text or infinite values in a column that was numeric in fit raise :class:`crmml.SchemaError`
        (column, count, examples) instead of becoming missing values.
        """
        check_is_fitted(self, "feature_names_")
        n = len(X)
        blocks = []
        for col in self.numeric_:
            v = numeric_values(X[col], "leads", col) if col in X.columns else np.full(n, np.nan)
            miss = np.isnan(v)
            blocks.append(np.where(miss, self.medians_[col], v)[:, None])
            if col in self.numeric_missing_:
                blocks.append(miss.astype(float)[:, None])
        for col in self.categorical_:
            levels = self.levels_[col]
            s = X[col] if col in X.columns else pd.Series([None] * n, index=X.index, dtype=object)
            miss = s.isna().to_numpy()
            vals = s.astype(str).to_numpy(dtype=object)
            code = pd.Index(levels).get_indexer(vals)
            code[code < 0] = levels.index(OTHER)
            if miss.any():
                code[miss] = levels.index(MISSING) if MISSING in levels else levels.index(OTHER)
            onehot = np.zeros((n, len(levels)))
            onehot[np.arange(n), code] = 1.0
            blocks.append(onehot)
        return np.hstack(blocks) if blocks else np.zeros((n, 0))
