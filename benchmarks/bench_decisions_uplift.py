"""Uplift on Hillstrom's e-mail test: Qini of uplift vs response-model vs random targeting, IPW policy value.

Run: PYTHONPATH=src python benchmarks/bench_decisions_uplift.py
"""

import time

import numpy as np
import pandas as pd

from crmml.datasets import HILLSTROM_FEATURES, load_hillstrom
from crmml.decisions import UpliftModel, policy_value, qini_coefficient

CONTROL = "No E-Mail"


def hillstrom_halves(seed=0):
    """Seeded held-out half: (train, test) frames."""
    df = load_hillstrom()
    test = np.random.default_rng(seed).random(len(df)) < 0.5
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def response_scores(train, test, outcome, model):
    """A response model: P(outcome | x) among e-mailed customers (targets likely responders, not persuadables)."""
    import xgboost as xgb

    m = train["segment"] != CONTROL
    Z = model._encode(train.loc[m, HILLSTROM_FEATURES], "response")
    clf = xgb.XGBClassifier(n_estimators=model.n_estimators, learning_rate=model.learning_rate,
                            max_depth=model.max_depth, min_child_weight=model.min_child_weight,
                            subsample=model.subsample, reg_lambda=model.reg_lambda, tree_method="hist",
                            random_state=model.random_state, n_jobs=1)
    clf.fit(Z, train.loc[m, outcome])
    return clf.predict_proba(model._encode(test[HILLSTROM_FEATURES], "response"))[:, 1]


def qini_table(train, test, outcome, learner="t", seed=0, **kw):
    model = UpliftModel(learner=learner, random_state=seed, **kw).fit(
        train[HILLSTROM_FEATURES], train["segment"], train[outcome], control=CONTROL)
    u = model.predict_uplift(test[HILLSTROM_FEATURES])
    treated = (test["segment"] != CONTROL).to_numpy()
    y = test[outcome].to_numpy()
    rng = np.random.default_rng(seed)
    rows = {"uplift": qini_coefficient(y, treated, u.max(axis=1)),
            "response_model": qini_coefficient(y, treated, response_scores(train, test, outcome, model)),
            "random": float(np.mean([qini_coefficient(y, treated, rng.random(len(y))) for _ in range(20)]))}
    return rows, model


if __name__ == "__main__":
    train, test = hillstrom_halves()
    for outcome in ("visit", "conversion"):
        for learner in ("t", "x", "dr"):
            t0 = time.perf_counter()
            rows, model = qini_table(train, test, outcome, learner)
            print(outcome, learner, {k: round(v, 5) for k, v in rows.items()}, f"{time.perf_counter() - t0:.0f} s")
            if outcome == "visit":
                rec = model.recommend(test[HILLSTROM_FEATURES], value=1.0, cost=0.0)["arm"].to_numpy()
                n = len(test)
                pols = {"uplift_policy": rec, "all_womens": np.full(n, "Womens E-Mail"),
                        "all_mens": np.full(n, "Mens E-Mail"), "none": np.full(n, CONTROL)}
                print(policy_value(test["visit"], test["segment"], pols, reference="all_womens").round(5))
                print(pd.Series(rec).value_counts().to_dict())
