"""The ``"shift"`` uplift learner: a constant effect per arm on a shared outcome model, and heterogeneity only as far
as held-out rows support it.

The null model of a treatment effect is one constant on the outcome model's scale (log-odds for a 0/1 outcome, the
outcome itself otherwise): with ``f(x)`` one outcome model fitted on every row, each arm (the control included) gets
``mu_arm(x) = link(f(x) + c_arm)``, ``c_arm`` by one-dimensional maximum likelihood with ``f`` as offset. For a 0/1
outcome that already ranks customers: the lift in probability of a constant log-odds effect grows with the
baseline response (below one half), which a T-learner's difference of two noisy models misses. Each arm then gets
a model ``g_arm`` boosted from ``f + c_arm`` on its own rows, with as many rounds (0 allowed) as a held-out quarter
of its rows supports: the fewest rounds whose held-out loss is within one standard error of the lowest (the
one-standard-error rule of ``learner="auto"``); none when the arm's fit rows are too few to fit a model on (no row,
or a single outcome of a 0/1 outcome). ``uplift_arm(x) = mu_arm(x) - mu_control(x)``.

Models (``UpliftModel.models_``): ``base`` (f), ``shift:<arm>`` (floats) and ``g:<arm>`` (only for arms that kept
at least one round).
"""

from __future__ import annotations

import numpy as np

from crmml.decisions._uplift_inputs import unlearnable

__all__ = ["SHIFT_VALIDATION", "check_shift_models", "constant_shift", "fit_shift", "one_se_rounds",
           "shift_uplift"]

#: share of each arm's rows held out to choose its heterogeneity rounds
SHIFT_VALIDATION = 0.25


def constant_shift(y, offset, binary: bool) -> float:
    """The constant c maximising the likelihood of ``y`` given the raw scores ``offset + c``.

    Squared error: the mean residual. 0/1 outcome: Newton's method on the logistic log-likelihood (concave in c, so
    it converges from 0; a step is halved while it lowers the likelihood).

    >>> round(constant_shift(np.array([0.0, 1.0, 1.0, 1.0]), np.zeros(4), True), 4)   # log(3/1)
    1.0986
    """
    if not binary:
        return float(np.mean(y - offset))

    def loglik(c):
        z = offset + c
        return float(np.sum(y * z - np.logaddexp(0.0, z)))

    c, ll = 0.0, loglik(0.0)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(offset + c)))
        step = float(np.sum(y - p)) / max(float(np.sum(p * (1 - p))), 1e-12)
        while True:
            new = loglik(c + step)
            if new >= ll or abs(step) < 1e-12:
                break
            step /= 2
        c, ll = c + step, new
        if abs(step) < 1e-10:
            break
    return float(c)


def _row_loss(y, margin, binary: bool):
    """Loss of each row given its raw score: log-loss (0/1 outcome) or squared error."""
    if binary:
        return np.logaddexp(0.0, margin) - y * margin
    return (y - margin) ** 2


def one_se_rounds(model, Z, y, offset, binary: bool) -> int:
    """The fewest boosting rounds of ``model`` (0 = the offset alone) whose held-out loss on (``Z``, ``y``) is within
    one standard error of the lowest: the standard error of the mean per-row loss difference to the best round count
    (the one-standard-error rule, Breiman et al. 1984, as in ``learner="auto"``)."""
    n = model.get_booster().num_boosted_rounds()
    if len(y) < 2:
        return 0
    loss = np.empty((n + 1, len(y)))
    loss[0] = _row_loss(y, offset, binary)
    for k in range(1, n + 1):
        loss[k] = _row_loss(y, model.predict(Z, base_margin=offset, output_margin=True, iteration_range=(0, k)),
                            binary)
    mean = loss.mean(axis=1)
    best = int(np.argmin(mean))
    d = loss - loss[best]
    se = d.std(axis=1, ddof=1) / np.sqrt(len(y))
    return int(np.flatnonzero(mean - mean[best] <= se)[0])


def fit_shift(est, Z, t, y, seed, folds) -> dict:
    """The models of ``est`` (an ``UpliftModel`` with its arms set) for the ``"shift"`` learner.

    ``folds(n_folds)`` gives stratified (fit, held-out) row splits; the first split with ``1 / SHIFT_VALIDATION``
    folds chooses each arm's rounds: f and the constants are fitted on the fit rows only (so f is out of sample on
    the held-out rows and does not bias the choice), each arm's model is boosted for ``n_estimators`` rounds from
    f + c_arm on its fit rows, and it keeps :func:`one_se_rounds` of them on its held-out rows. f, the constants and
    the arm models are then refitted on all rows with those rounds (the arm models boosted from an f that has seen
    their rows, as in the ``"shared"`` learner).
    """
    fit_rows, val_rows = folds(int(round(1 / SHIFT_VALIDATION)))[0]
    rounds = _shift_models(est, Z, t, y, seed, fit_rows, val_rows)
    return _shift_models(est, Z, t, y, seed, np.arange(len(y)), None, rounds)


def _shift_models(est, Z, t, y, seed, rows, val_rows, rounds=None):
    """With ``val_rows``: the rounds of each arm's model (dict arm -> int) chosen on them, the models fitted on
    ``rows``. Without: the models (dict) fitted on ``rows`` with the given ``rounds``."""
    binary = est.binary_
    models = {"base": est._model(binary, seed).fit(Z[rows], y[rows])}
    margin = models["base"].predict(Z, output_margin=True)
    chosen = {}
    for arm in [est.control_] + est.arms_:
        a = rows[t[rows] == arm]
        c = constant_shift(y[a], margin[a], binary) if len(a) else 0.0
        models[f"shift:{arm}"] = c
        if val_rows is not None and unlearnable(y[a], binary):
            chosen[arm] = 0             # too few fit rows (a single outcome) to learn how the arm departs: c alone
        elif val_rows is not None:
            v = val_rows[t[val_rows] == arm]
            g = est._model(binary, seed).fit(Z[a], y[a], base_margin=margin[a] + c)
            chosen[arm] = one_se_rounds(g, Z[v], y[v], margin[v] + c, binary)
        elif rounds[arm] > 0:
            models[f"g:{arm}"] = est._model(binary, seed, n_estimators=rounds[arm]).fit(
                Z[a], y[a], base_margin=margin[a] + c)
    return chosen if val_rows is not None else models


def shift_uplift(est, models, Z) -> dict:
    """Arm -> uplift over the control: each arm's link(f + c_arm), or its model boosted from it, minus the control's."""
    f = models["base"].predict(Z, output_margin=True)
    mu = {}
    for arm in [est.control_] + est.arms_:
        off = f + models[f"shift:{arm}"]
        g = models.get(f"g:{arm}")
        mu[arm] = est._mu(g, Z, off) if g is not None else (1.0 / (1.0 + np.exp(-off)) if est.binary_ else off)
    return {arm: mu[arm] - mu[est.control_] for arm in est.arms_}


def check_shift_models(models: dict, every: list) -> dict:
    """The xgboost entries of a loaded ``"shift"`` model set; raises ``ValueError`` when a constant is not a finite
    float or an entry is not one of ``base``, ``shift:<arm>``, ``g:<arm>`` (``every``: the arms, control first)."""
    allowed = {"base"} | {f"{k}:{a}" for a in every for k in ("shift", "g")}
    if not set(models) <= allowed or not {"base"} | {f"shift:{a}" for a in every} <= set(models):
        raise ValueError("the shift learner's models_ must hold base, shift:<arm> for every arm and optional "
                         "g:<arm> entries only.")
    shifts = [models[f"shift:{a}"] for a in every]
    if not all(isinstance(v, float) and np.isfinite(v) for v in shifts):
        raise ValueError("the shift learner's shift:<arm> entries must be finite floats.")
    return {k: v for k, v in models.items() if not k.startswith("shift:")}
