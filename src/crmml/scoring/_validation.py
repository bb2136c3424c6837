"""How LeadScorer validates: forward-chaining (or random) folds, date features, and the leakage screen.

Leads arrive over time, and a lead scorer is used on leads that arrive *after* the ones it learned from. Its
model selection, its calibration and its ``evaluate()`` must therefore be measured the same way: train on the
earlier leads, test on the later ones (forward chaining). Random folds mix future leads into the training set
and, when conversion rates drift, report a ROC-AUC the scorer never reaches on new leads.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from crmml.evaluation import roc_auc
from crmml.exceptions import DataError, InsufficientDataWarning, LeakageWarning
from crmml.scoring._features import attribute_kind

__all__ = ["lead_times", "time_folds", "cv_folds", "lead_folds", "date_features", "leakage_screen",
           "warn_unknown_excluded", "SEPARATION_WARN"]

#: a single column whose ROC-AUC (either direction) reaches this almost separates converters from the rest
SEPARATION_WARN = 0.95

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _naive_times(s: pd.Series):
    """A date column as naive UTC ``datetime64[ns]``, or None when it is entirely missing."""
    t = pd.to_datetime(s)
    if isinstance(t.dtype, pd.DatetimeTZDtype):
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return None if t.isna().all() else t.to_numpy(dtype="datetime64[ns]")


def lead_times(leads: pd.DataFrame):
    """``created_at`` as naive UTC ``datetime64[ns]``, or None when the column is absent or entirely missing."""
    return _naive_times(leads["created_at"]) if "created_at" in leads.columns else None


def time_folds(t, y, n_folds: int):
    """Forward-chaining folds: ``n_folds + 1`` consecutive blocks of leads by ``created_at``.

    Fold ``k`` trains on blocks ``0..k-1`` and tests on block ``k`` (so the first block only ever trains).
    Block edges move to the first lead of a date, so leads created at the same time never straddle a
    train/test edge. Folds whose training or test block has a single class are dropped.

    Returns ``(folds, reason)``: a list of ``(train_idx, test_idx)`` and, when fewer than 2 usable folds
    remain (or a lead has no ``created_at``), ``folds`` is empty and ``reason`` says why.

    Examples
    --------
    >>> t = np.array(["2024-01-01", "2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"],
    ...              dtype="datetime64[ns]")
    >>> folds, _ = time_folds(t, np.array([0, 1, 1, 0, 0, 1]), 2)
    >>> [(tr.tolist(), te.tolist()) for tr, te in folds]
    [([0, 1], [2, 3]), ([0, 1, 2, 3], [4, 5])]
    """
    if np.isnat(t).any():
        return [], f"{int(np.isnat(t).sum())} leads have no created_at"
    order = np.argsort(t, kind="stable")
    ts = t[order]
    n = len(t)
    edges = [0]
    for i in range(1, n_folds + 1):
        b = int(round(i * n / (n_folds + 1)))
        b = int(np.searchsorted(ts, ts[min(b, n - 1)], side="left"))   # start of that date
        if edges[-1] < b < n:
            edges.append(b)
    edges.append(n)
    folds = []
    for k in range(1, len(edges) - 1):
        tr, te = order[:edges[k]], order[edges[k]:edges[k + 1]]
        if len(np.unique(y[tr])) == 2 and len(np.unique(y[te])) == 2:
            folds.append((np.sort(tr), np.sort(te)))
    if len(folds) < 2:
        return [], (f"created_at splits the leads into {len(folds)} usable forward folds (2 needed: "
                    "more distinct dates, or conversions in every period)")
    return folds, ""


def cv_folds(y, cv: int, random_state):
    """Stratified random ``cv``-fold splits (shuffled with ``random_state``) as a list of ``(train, test)``."""
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state).split(np.zeros(len(y)), y))


def lead_folds(t, y, cv: int, validation: str, random_state):
    """The folds of ``LeadScorer.fit`` (``validation``: "auto", "time" or "random"; ``t``: :func:`lead_times`).

    Forward-chaining folds (:func:`time_folds`) on ``created_at`` when ``validation`` allows and they exist; else
    stratified random folds, with an :class:`~crmml.exceptions.InsufficientDataWarning` saying why when
    ``validation="auto"`` wanted forward ones (``ValueError`` when ``validation="time"``).

    Returns ``(folds, periods, description)``: ``periods`` is the forward fold of each lead tested in one (-1 for
    the others; None with random folds), ``description`` the ``validation_`` text.
    """
    why = "the leads have no created_at"
    if validation != "random" and t is not None:
        folds, why = time_folds(t, y, cv)
        if folds:
            periods = np.full(len(y), -1)                # the forward fold of each tested lead: one level each
            for k, (_, te) in enumerate(folds):
                periods[te] = k
            return folds, periods, (f"time-ordered: {len(folds)} forward-chaining folds on created_at (each "
                                    "trains on earlier leads and tests on the next block)")
        if validation == "auto":
            warnings.warn(f"LeadScorer.fit: {why}; validating with stratified random folds instead, which "
                          "overstates the ROC-AUC on future leads when conversion rates drift.",
                          InsufficientDataWarning, stacklevel=4)
    if validation == "time":
        raise DataError(f"LeadScorer.fit: validation='time' needs forward folds on created_at, but {why}. "
                        "Add created_at to every lead or use validation='auto'.")
    description = f"random: stratified {cv}-fold" + ("" if validation == "random" else f" ({why})")
    return cv_folds(y, cv, random_state), None, description


def date_features(leads: pd.DataFrame, names) -> pd.DataFrame:
    """The month and weekday of ``created_at`` as categorical columns (``names`` chosen at fit).

    ``created_at_month`` ("jan".."dec") captures seasonality; ``created_at_weekday`` ("mon".."sun") is used
    only when fit saw ``created_at`` on more than one day of the month (month-level dates carry no weekday).
    Leads without ``created_at`` get missing values.
    """
    t = lead_times(leads)
    out = {}
    for name in names:
        if t is None:
            out[name] = pd.Series([None] * len(leads), dtype=object)
            continue
        s = pd.Series(t)
        codes, labels = (s.dt.month - 1, _MONTHS) if name == "created_at_month" else (s.dt.day_of_week, _WEEKDAYS)
        vals = np.asarray(labels, dtype=object)[codes.fillna(0).astype(int).to_numpy()]
        vals[s.isna().to_numpy()] = None
        out[name] = pd.Series(vals, dtype=object)
    return pd.DataFrame(out, index=range(len(leads)))


def date_feature_names(t) -> list:
    """Which date features a fit on ``created_at`` values ``t`` uses (see :func:`date_features`)."""
    if t is None:
        return []
    days = pd.Series(t).dropna().dt.day
    return ["created_at_month", "created_at_weekday"] if days.nunique() > 1 else ["created_at_month"]


def _level_rates(s: pd.Series, y: np.ndarray, min_count: int) -> np.ndarray:
    """Each lead's category scored by its level's conversion rate: levels compared as text (missing is the
    level ``"__missing__"``), levels seen fewer than ``min_count`` times pooled as ``"__other__"`` (as the encoder
    pools them). Computed on integer codes (one pass over the rows), not by mapping text per row.

    >>> _level_rates(pd.Series(["a", "a", "b", None, 1, "1"]), np.array([1, 0, 1, 0, 1, 1]), 2).tolist()
    [0.5, 0.5, 0.5, 0.5, 1.0, 1.0]
    """
    text = s.astype(object).where(s.notna(), "__missing__").astype(str).to_numpy(dtype=object)
    codes, levels = pd.factorize(text)
    counts = np.bincount(codes, minlength=len(levels))
    pooled = np.where(counts >= min_count, levels.astype(object), "__other__")
    group, _ = pd.factorize(pooled)                  # a level named "__other__" joins the pool, as before
    g = group[codes]
    return np.bincount(g, weights=np.asarray(y, dtype=float))[g] / np.bincount(g)[g]


def _single_column_auc(s: pd.Series, y: np.ndarray, min_count: int) -> float:
    """ROC-AUC of one column used alone, in its better direction (0.5 = no signal, 1 = separates)."""
    if attribute_kind(s.dtype) == "numeric":
        x = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
        fin = np.isfinite(x)
        if not fin.any():
            return 0.5
        x = np.where(fin, x, np.nanmin(np.where(fin, x, np.nan)) - 1.0)   # missing: its own lowest value
    else:
        x = _level_rates(s, y, min_count)
    a = roc_auc(y, x)
    return 0.5 if not np.isfinite(a) else float(max(a, 1.0 - a))


def leakage_screen(leads: pd.DataFrame, X_df: pd.DataFrame, y: np.ndarray, exclude=None, *,
                   min_category_frequency: float, owner: str = "LeadScorer.fit") -> pd.DataFrame:
    """Warn, column by column, about features that look like they were recorded after the outcome.

    Two checks, each a :class:`crmml.exceptions.LeakageWarning` naming the column and what to do:

    - a feature whose values alone separate converters from the rest almost perfectly (single-column ROC-AUC
      at least :data:`SEPARATION_WARN` in either direction; categories are scored by their conversion rate,
      with rare ones pooled as in the encoder, so identifiers do not trigger it);
    - a date column of the leads frame with values after the lead's ``created_at`` (it is not a feature, but
      it shows the file holds information recorded after the lead was created: check the other columns); a
      column the user passed in ``exclude`` is not warned about (there is nothing left to do).

    Returns a frame indexed by feature with ``single_column_roc_auc`` and ``suspect``.
    """
    n = len(y)
    min_count = max(5, math.ceil(min_category_frequency * n))
    rows = {str(c): _single_column_auc(X_df[c].reset_index(drop=True), y, min_count) for c in X_df.columns}
    table = pd.DataFrame({"single_column_roc_auc": pd.Series(rows, dtype=float)})
    table["suspect"] = table["single_column_roc_auc"] >= SEPARATION_WARN
    table.index.name = "feature"
    for c, a in table.loc[table["suspect"], "single_column_roc_auc"].items():
        warnings.warn(f"{owner}: the column {c!r} alone separates converted from other leads almost perfectly "
                      f"(ROC-AUC {a:.3f}); it is probably recorded after the outcome (a stage, a close date, "
                      f"a call duration). If it is not known when a lead is scored, refit with exclude=[{c!r}] "
                      f"(crmml train leads --exclude {c}).", LeakageWarning, stacklevel=3)
    t = lead_times(leads)
    skip = {"created_at", "score_time", *(exclude or ())}
    if t is not None:
        for c in leads.columns:
            if c in skip or not pd.api.types.is_datetime64_any_dtype(leads[c].dtype):
                continue
            d = _naive_times(leads[c])
            if d is None:
                continue
            after = int((d > t).sum())
            if after:
                warnings.warn(f"{owner}: the date column {c!r} is after created_at for {after} of {n} leads: "
                              "the file holds information recorded after the leads were created. It is not "
                              "used as a feature; check that every other column is known when a lead is "
                              "scored, and exclude the ones that are not (exclude=[...]).",
                              LeakageWarning, stacklevel=3)
    return table


def warn_unknown_excluded(exclude, columns, owner: str = "LeadScorer.fit") -> None:
    """Warn (:class:`~crmml.exceptions.LeakageWarning`) about ``exclude=`` names that are no column of the leads.

    ``exclude=`` is how a leaking column is kept out of the features, so a misspelt name (or a name from before
    ``columns=`` mapped it) would leave the column it meant among them without a word.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_unknown_excluded(["durration"], ["lead_id", "duration", "converted"])
    >>> print(w[0].message)
    LeadScorer.fit: exclude= names ['durration'] are not columns of the leads, so they exclude nothing; check their spelling (columns: ['lead_id', 'duration', 'converted']).
    """
    known = set(columns)
    unknown = [c for c in (exclude or ()) if c not in known]
    if unknown:
        warnings.warn(f"{owner}: exclude= names {unknown[:10]} are not columns of the leads, so they exclude "
                      f"nothing; check their spelling (columns: {list(columns)[:20]}).", LeakageWarning,
                      stacklevel=3)
