"""Uplift evaluation on randomised data: Qini and uplift curves, Qini coefficient / AUUC, deciles, IPW policy value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils import check_number
from crmml._utils._validation import check_paired
from crmml._utils._numeric import float_vector as _floats
from crmml._utils._numeric import trapezoid
from crmml.decisions._uplift_inputs import arm_labels
from crmml.exceptions import DataError, ParameterError

__all__ = ["auuc", "policy_value", "qini_coefficient", "qini_curve", "uplift_by_decile"]


def _inputs(y, treated, score, owner):
    check_paired(owner, {"y": y, "treated": treated, "score": score})
    y = _floats(y, "y", owner)
    w = np.asarray(treated).ravel()
    s = _floats(score, "score", owner)
    if not (len(y) == len(w) == len(s)) or len(y) == 0:
        raise DataError(f"{owner}: y, treated and score must be non-empty and of the same length.")
    if not np.isin(w, (0, 1)).all():
        raise DataError(f"{owner}: treated must hold 0/1 (or bool): 1 = treated, 0 = control.")
    if not (np.isfinite(y).all() and np.isfinite(s).all()):
        raise DataError(f"{owner}: y and score must be finite.")
    w = w.astype(bool)
    if w.all() or not w.any():
        raise DataError(f"{owner}: needs treated and control rows.")
    order = np.lexsort((np.arange(len(s)), -s))          # best first, ties in input order
    return y[order], w[order]


def qini_curve(y, treated, score) -> pd.DataFrame:
    """Qini curve: incremental outcomes gained by targeting the top of ``score``, per customer of the population.

    At each cut (after the k best-scored rows) ``qini = (Y_t(k) - Y_c(k) N_t(k) / N_c(k)) / N`` (Radcliffe
    2007), ``Y``/``N`` the outcome sums and counts among the treated (t) and control (c) rows above the
    cut; ``uplift = (Y_t(k) / N_t(k) - Y_c(k) / N_c(k)) k / N`` is the uplift curve.

    Returns
    -------
    DataFrame
        ``fraction`` (k / N, from 0), ``qini``, ``uplift``.

    Examples
    --------
    >>> qini_curve([1, 0, 0, 1], [1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1])["qini"].round(2).tolist()
    [0.0, 0.25, 0.25, 0.25, 0.0]
    """
    y, w = _inputs(y, treated, score, "qini_curve")
    n = len(y)
    nt, nc = np.cumsum(w), np.cumsum(~w)
    yt, yc = np.cumsum(y * w), np.cumsum(y * ~w)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = yt - np.where(nc > 0, yc * nt / nc, 0.0)
        u = np.where((nt > 0) & (nc > 0), yt / np.maximum(nt, 1) - yc / np.maximum(nc, 1), 0.0) * np.arange(1, n + 1)
    return pd.DataFrame({"fraction": np.r_[0.0, np.arange(1, n + 1) / n], "qini": np.r_[0.0, q / n],
                         "uplift": np.r_[0.0, u / n]})


def _area_over_random(curve, col):
    x, v = curve["fraction"].to_numpy(), curve[col].to_numpy()
    return float(trapezoid(v, x) - v[-1] / 2)


def qini_coefficient(y, treated, score) -> float:
    """Area between the Qini curve and the random-targeting diagonal (per customer; 0 = random, > 0 better).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> tau = rng.random(20000); w = rng.integers(0, 2, 20000)
    >>> y = (rng.random(20000) < 0.1 + 0.3 * tau * w).astype(int)
    >>> qini_coefficient(y, w, tau) > 0.01 > abs(qini_coefficient(y, w, rng.random(20000)))
    True
    """
    return _area_over_random(qini_curve(y, treated, score), "qini")


def auuc(y, treated, score) -> float:
    """Area under the uplift curve above the random-targeting diagonal (per customer; 0 = random).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> tau = rng.random(20000); w = rng.integers(0, 2, 20000)
    >>> y = (rng.random(20000) < 0.1 + 0.3 * tau * w).astype(int)
    >>> bool(auuc(y, w, tau) > auuc(y, w, -tau))
    True
    """
    return _area_over_random(qini_curve(y, treated, score), "uplift")


def uplift_by_decile(y, treated, score, n_bins: int = 10) -> pd.DataFrame:
    """Observed response rates of treated and control rows and their difference, per score decile (1 = top).

    Bins hold equal numbers of rows (best-scored first, ties in input order), so there must be at least
    ``n_bins`` rows (else a ``DataError``). A bin without treated (control) rows has no ``response_treated``
    (``response_control``) and no ``uplift``: NaN there.

    Examples
    --------
    >>> import numpy as np
    >>> t = uplift_by_decile(np.r_[np.ones(50), np.zeros(50)], np.tile([1, 0], 50), np.linspace(1, 0, 100), 2)
    >>> t[["n_treated", "n_control"]].to_numpy().tolist()
    [[25, 25], [25, 25]]
    """
    check_number(n_bins, "n_bins", "uplift_by_decile", low=2, high=1000)
    y, w = _inputs(y, treated, score, "uplift_by_decile")
    if len(y) < n_bins:
        raise DataError(f"uplift_by_decile: {len(y)} rows cannot fill {n_bins} bins; pass n_bins={max(len(y), 2)} "
                        "or fewer.")
    b = np.minimum((np.arange(len(y)) * n_bins) // len(y), n_bins - 1)
    rows = []
    for k in range(n_bins):
        m = b == k
        t, c = m & w, m & ~w
        rt = y[t].mean() if t.any() else np.nan
        rc = y[c].mean() if c.any() else np.nan
        rows.append({"bin": k + 1, "n_treated": int(t.sum()), "n_control": int(c.sum()), "response_treated": rt,
                     "response_control": rc, "uplift": rt - rc})
    return pd.DataFrame(rows).set_index("bin")


def policy_value(y, treatment, policies: dict, *, reference=None, propensity=None, n_bootstrap: int = 1000,
                 level: float = 0.95, random_state=0) -> pd.DataFrame:
    """Inverse-propensity-weighted value (mean outcome per customer) of each policy, with bootstrap intervals.

    ``value = mean(1[treatment_i == policy_i] y_i / p(treatment_i))`` (Horvitz-Thompson), ``p`` the arm shares of
    a randomised test unless ``propensity`` (a dict arm -> probability) is given. Intervals resample customers
    (percentile bootstrap); with ``reference`` the difference to that policy is resampled jointly.

    Parameters
    ----------
    y : array-like
    treatment : array-like
        Arm received per row.
    policies : dict
        Name -> array of the arm each row would get. Missing arms (in ``treatment`` or a policy) and policy arms
        that never occur in ``treatment`` (their value cannot be estimated) are refused with a ``ValueError``.
    reference : str, optional
        A key of ``policies``: adds ``diff``, ``diff_lower``, ``diff_upper``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> arm = rng.choice(["a", "b"], 5000); y = rng.random(5000) < np.where(arm == "a", 0.2, 0.3)
    >>> pv = policy_value(y, arm, {"all_a": np.full(5000, "a"), "all_b": np.full(5000, "b")}, reference="all_a",
    ...                   n_bootstrap=200)
    >>> bool(pv.loc["all_b", "diff_lower"] > 0)
    True
    """
    owner = "policy_value"
    named = {f"policies[{k!r}]": v for k, v in policies.items()} if isinstance(policies, dict) else {}
    check_paired(owner, {"y": y, "treatment": treatment, **named})
    y = _floats(y, "y", owner)
    t = arm_labels(treatment, "treatment", owner)
    if not isinstance(policies, dict) or not policies:
        raise ParameterError(f"{owner}: policies must be a dict name -> array of arms, with at least one policy. "
                             f"Got {policies!r:.60}.")
    if len(t) != len(y) or len(y) == 0 or not np.isfinite(y).all():
        raise DataError(f"{owner}: y and treatment must be non-empty and of the same length, and y must be finite.")
    check_number(n_bootstrap, "n_bootstrap", owner, low=0, high=100_000)
    check_number(level, "level", owner, kind="float", low=0, high=1, low_inclusive=False, high_inclusive=False)
    arms, counts = np.unique(t, return_counts=True)
    p = dict(zip(arms, counts / len(t))) if propensity is None else {str(k): v for k, v in propensity.items()}
    if any(a not in p or not isinstance(p[a], (int, float, np.integer, np.floating)) or isinstance(p[a], bool)
           or not 0 < p[a] <= 1 for a in arms):
        raise ParameterError(f"{owner}: propensity must give every arm in treatment a probability in (0, 1].")
    pt = np.array([p[a] for a in t])
    contrib = {}
    for name, pol in policies.items():
        pol = arm_labels(pol, f"policy {name!r}", owner)
        if len(pol) != len(y):
            raise ParameterError(f"{owner}: policy {name!r} has {len(pol)} entries for {len(y)} rows.")
        unseen = ~np.isin(pol, arms)
        if unseen.any():
            raise ParameterError(f"{owner}: policy {name!r} assigns {int(unseen.sum())} rows to arms that never "
                                 f"occur in treatment ({pd.unique(pol[unseen])[:3].tolist()}; arms: "
                                 f"{arms.tolist()}); their value cannot be estimated from this test.")
        contrib[name] = (pol == t) * y / pt
    if reference is not None and reference not in contrib:
        raise ParameterError(f"{owner}: reference {reference!r} is not one of the policies {list(policies)}.")
    names = list(contrib)
    C = np.column_stack([contrib[k] for k in names])
    rng = np.random.default_rng(random_state)
    draws = np.empty((n_bootstrap, len(names)))
    for b in range(n_bootstrap):                       # one resample at a time: memory stays O(n)
        draws[b] = C[rng.integers(0, len(y), len(y))].mean(axis=0)
    q = [(1 - level) / 2, (1 + level) / 2]
    rows = {}
    for j, name in enumerate(names):
        row = {"value": float(C[:, j].mean())}
        if n_bootstrap:
            row["lower"], row["upper"] = (float(v) for v in np.quantile(draws[:, j], q))
            if reference is not None:
                r = names.index(reference)
                row["diff"] = row["value"] - float(C[:, r].mean())
                row["diff_lower"], row["diff_upper"] = (float(v) for v in np.quantile(draws[:, j] - draws[:, r], q))
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")
