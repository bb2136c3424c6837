"""How ``UpliftModel(learner="auto")`` chooses its meta-learner: cross-validated Qini on the training data.

The candidates are the documented learners (``AUTO_CANDIDATES``, the default ``"shift"`` learner first: it is the
baseline and wins ties). Each is fitted on ``n_folds - 1`` folds and ranks the customers of the remaining fold; its
score for an arm is the Qini coefficient of that arm against the control on the held-out fold (only customers of
those two arms), averaged over the folds, and its fold score the mean over arms. Folds are stratified by arm (and
by outcome when it is 0/1, so that every training fold has responders in every arm). Nothing outside the training
data is looked at.

Qini coefficients of a few thousand customers are noisy (on Hillstrom's e-mail test one fold's Qini moves by about
as much as the learners differ), so the best-scoring candidate replaces the baseline only when it beats it clearly:
its mean paired fold difference to the baseline must exceed one standard error of that difference (the
one-standard-error rule, Breiman et al. 1984). Otherwise the baseline is kept.

A candidate that cannot be fitted on a fold (``"dr"``, whose outcome models are fitted on random halves, when an
arm is too small for them) is left out of the selection with an ``InsufficientDataWarning`` naming it; so that
every other one can, each fold must hold rows of every arm in both its parts (else a ``DataError``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml.decisions._uplift_inputs import describe_arm, unlearnable
from crmml.decisions._uplift_metrics import qini_coefficient
from crmml.exceptions import DataError, InsufficientDataWarning

__all__ = ["AUTO_CANDIDATES", "select_learner"]

#: the learners ``learner="auto"`` validates, baseline first (ties go to the earlier one)
AUTO_CANDIDATES = ("shift", "t", "s", "st", "shared", "x", "dr")


def _folds(t, y, binary, n_folds, seed):
    from sklearn.model_selection import StratifiedKFold

    key = pd.Series(t).astype(str) + ("|" + pd.Series(y).astype(str) if binary else "")
    counts = key.value_counts()
    if counts.min() < n_folds:                        # a rare (arm, outcome) cell: stratify by arm only
        key = pd.Series(t).astype(str)
        arms = key.value_counts()
        if arms.min() < n_folds:                      # said by crmml, in place of scikit-learn's own warning
            warnings.warn(f"UpliftModel.fit: arm {arms.idxmin()!r} has {int(arms.min())} row(s), fewer than the "
                          f"{n_folds} folds it is split into, so some folds hold none of it.",
                          InsufficientDataWarning, stacklevel=6)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(t)), key))


def _check_folds(folds, t, y, binary, every):
    """A :class:`DataError` naming the first arm too small for the folds: each fold must hold rows of every arm
    in its held-out part (to score the arm against the control) and in its training part (of both outcomes, for a
    0/1 outcome: to fit the arm's outcome model)."""
    for k, (tr, te) in enumerate(folds):
        for arm in every:
            part = "held-out" if not np.any(t[te] == arm) else "training" if unlearnable(y[tr][t[tr] == arm],
                                                                                      binary) else None
            if part is not None:
                raise DataError(f"UpliftModel.fit: learner='auto' cross-validates on {len(folds)} folds, and the "
                                f"{part} part of fold {k + 1} holds too few rows of {describe_arm(arm, t, y, binary)} "
                                f"to {'score' if part == 'held-out' else 'fit'} it. Lower n_folds, choose a learner "
                                "(e.g. learner='shift'), or gather more rows of that arm.")


def select_learner(model, Z, t, y, candidates=AUTO_CANDIDATES, n_folds=5, seed=0, step=None):
    """Cross-validated Qini of each candidate learner of ``model`` (an ``UpliftModel`` with its arms set).

    Parameters
    ----------
    model : UpliftModel
        Its ``_fit_once`` and ``_uplift`` are used with each candidate in turn; ``control_``, ``arms_``,
        ``shares_`` and ``binary_`` must be set.
    Z : ndarray
        Encoded features; ``t`` the arm of each row, ``y`` the outcome.
    candidates : tuple of str
    n_folds : int
    seed : int
        Seeds the folds and the models.
    step : callable, optional
        Called with the name of each (fold, candidate) fit as it starts (a progress bar's ``step``).

    Returns
    -------
    chosen : str
    selection : DataFrame
        One row per candidate: ``cv_qini:<arm>``, ``cv_qini`` (mean over arms), ``cv_qini_std`` (over folds),
        ``diff_vs_baseline`` and ``diff_se`` (mean and standard error of the paired fold differences to the
        baseline) and ``chosen``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmml.decisions import UpliftModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=3000)})
    >>> arm = rng.choice(["none", "mail"], 3000)
    >>> y = rng.normal(size=3000) + (arm == "mail") * X["x"]
    >>> m = UpliftModel(learner="auto", n_estimators=30, random_state=1).fit(X, arm, y, control="none")
    >>> list(m.selection_.columns)
    ['cv_qini:mail', 'cv_qini', 'cv_qini_std', 'diff_vs_baseline', 'diff_se', 'chosen']
    """
    arms, control = model.arms_, model.control_
    folds = _folds(t, y, model.binary_, n_folds, seed)
    _check_folds(folds, t, y, model.binary_, [control] + arms)
    per_fold = {c: [] for c in candidates}                  # candidate -> list of {arm: qini} per fold
    dropped = {}                                            # candidate -> why the folds are too small for it
    for k, (tr, te) in enumerate(folds):
        for c in candidates:
            if step is not None:
                step(f"fold {k + 1}/{n_folds}: {c!r} learner")
            if c in dropped:
                continue
            try:
                models = model._fit_once(Z[tr], t[tr], y[tr], seed + k, c)
            except DataError as exc:                        # "dr"'s random halves of a small arm
                if c == candidates[0]:
                    raise
                dropped[c] = str(exc)
                continue
            u = model._uplift(models, Z[te], c)
            row = {}
            for arm in arms:
                sub = (t[te] == arm) | (t[te] == control)
                row[arm] = qini_coefficient(y[te][sub], t[te][sub] == arm, u[arm][sub])
            per_fold[c].append(row)
    if dropped:
        warnings.warn(f"UpliftModel.fit: learner='auto' leaves out {len(dropped)} of its {len(candidates)} candidates "
                      f"({', '.join(map(repr, dropped))}), which could not be fitted on a fold: "
                      f"{next(iter(dropped.values()))}", InsufficientDataWarning, stacklevel=4)
        candidates = [c for c in candidates if c not in dropped]
    rows, fold_score = {}, {}
    for c in candidates:
        scores = pd.DataFrame(per_fold[c])                  # folds x arms
        fold_score[c] = scores.mean(axis=1).to_numpy()
        d = fold_score[c] - fold_score[candidates[0]]
        rows[c] = {**{f"cv_qini:{a}": float(scores[a].mean()) for a in arms},
                   "cv_qini": float(fold_score[c].mean()), "cv_qini_std": float(fold_score[c].std(ddof=1)),
                   "diff_vs_baseline": float(d.mean()), "diff_se": float(d.std(ddof=1) / np.sqrt(len(d)))}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("candidate")
    best = str(table["cv_qini"].idxmax())                   # first of the best: the baseline wins ties
    clear = table.loc[best, "diff_vs_baseline"] > table.loc[best, "diff_se"]
    chosen = best if clear else candidates[0]
    table["chosen"] = table.index == chosen
    return chosen, table
