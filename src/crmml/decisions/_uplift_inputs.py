"""The inputs of an uplift experiment: arms, outcome, column names, and a check that the assignment looks random."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml._utils import check_feature_frame
from crmml.decisions._errors import NotRandomisedWarning, TreatmentError
from crmml.exceptions import DataError
from crmml.schema import SchemaError

__all__ = ["arm_labels", "check_arms", "check_outcome", "describe_arm", "randomisation_check", "str_columns",
           "unlearnable"]

#: p-value (after Bonferroni over the features) below which arm shares are taken to vary with a feature
_RANDOMISATION_ALPHA = 1e-3


def arm_labels(values, name, owner):
    """Arm labels as a str array; a missing label (None, NaN) is a :class:`TreatmentError`, never an arm 'nan'."""
    raw = np.asarray(values, dtype=object).ravel()
    missing = pd.isna(raw)
    if missing.any():
        raise TreatmentError(f"{owner}: {name} is missing on {int(missing.sum())} rows; every row needs its arm.")
    return raw.astype(str)


def check_arms(treatment, n, control, owner):
    t = arm_labels(treatment, "treatment", owner)
    if len(t) != n:
        raise DataError(f"{owner}: treatment has {len(t)} values but X has {n} rows.")
    arms = sorted(np.unique(t).tolist())
    if len(arms) < 2:
        raise TreatmentError(f"{owner}: the treatment column holds a single arm ({arms[0]!r}); an uplift model "
                             "needs a control arm and at least one treatment arm.")
    control = str(control)
    if control not in arms:
        raise TreatmentError(f"{owner}: the control arm {control!r} does not occur in treatment (arms: {arms}). "
                             "Pass control= with the label of the untreated group.")
    return t, control, [a for a in arms if a != control]


def unlearnable(y, binary: bool) -> bool:
    """True when an outcome model cannot be fitted on the outcomes ``y`` of some rows: no row, or (0/1 outcome) a
    single outcome (a classifier needs responders and non-responders)."""
    return len(y) == 0 or (binary and np.unique(y).size < 2)


def describe_arm(arm, t, y, binary: bool) -> str:
    """``"arm 'mail' (5 rows, 1 with outcome 1)"``: the size of an arm, for a message saying it is too small."""
    rows = t == arm
    ones = f", {int(np.sum(y[rows] == 1))} with outcome 1" if binary else ""
    return f"arm {arm!r} ({int(rows.sum())} rows{ones})"


def str_columns(X, owner):
    """``X`` with its column names as text (as stored in ``feature_names_in_``); names equal as text are refused."""
    X = X.set_axis([str(c) for c in X.columns], axis=1)
    check_feature_frame(X, owner)
    return X


def check_outcome(y, n, owner):
    s = pd.Series(np.asarray(y, dtype=object).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
    if len(s) != n:
        raise DataError(f"{owner}: y has {len(s)} values but X has {n} rows.")
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(np.float64)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna().to_numpy()
    if bad.any():
        raise SchemaError("outcome", "y", "the outcome must be numeric (0/1 for a response, an amount for "
                          "spend) and present on every row", n_rows=int(bad.sum()),
                          examples=pd.unique(s[bad].astype(str))[:3].tolist())
    v = num.to_numpy(np.float64)
    if not np.isfinite(v).all():
        raise SchemaError("outcome", "y", "infinite outcome values", n_rows=int((~np.isfinite(v)).sum()))
    return v


def randomisation_check(X, t, owner):
    """Warn when arm shares depend on a feature (chi-square test per column, Bonferroni-corrected).

    A column with more than 10 distinct values is cut into quintiles; missing values are a group of their own
    (so are they in a column of few values), so an assignment that follows missingness is caught too.
    """
    from scipy.stats import chi2_contingency

    worst = (1.0, None)
    for c in X.columns:
        col = X[c]
        if col.nunique(dropna=True) > 10:       # crosstab would leave out the rows of a NaN quintile: -1 is theirs
            key = pd.qcut(col.rank(method="first"), 5, labels=False).fillna(-1)
        else:
            key = col.astype(str)
        tab = pd.crosstab(key, t)
        if tab.shape[0] < 2:
            continue
        p = chi2_contingency(tab.to_numpy())[1]
        if p < worst[0]:
            worst = (p, c)
    p_adj = min(1.0, worst[0] * max(1, X.shape[1]))
    if p_adj < _RANDOMISATION_ALPHA:
        warnings.warn(f"{owner}: the arm shares vary with {worst[1]!r} (chi-square p = {p_adj:.2g} after "
                      f"Bonferroni over {X.shape[1]} columns): the assignment does not look randomised, so the "
                      "propensities are not constant and the estimated effects may be biased. Check the test "
                      "design, or restrict to a randomised subset.", NotRandomisedWarning, stacklevel=3)
