"""Uplift on Hillstrom's e-mail test over 5 seeded held-out halves: Qini of uplift vs response model vs random
(per e-mail, and pooled: any e-mail against none, ranked by the arms' share-weighted mean uplift, the effect of
the e-mail a treated customer got at random), and the IPW value of the per-customer e-mail policy against everyone getting the men's
e-mail (the best single e-mail for visits), with a bootstrap 95% interval of the difference.

Learners: the fixed ones ("shift", the default, "t", "s", "st", "shared", "x", "dr") and "auto" (chosen by
cross-validated Qini on the training half only; the chosen learner is printed per run). "random" is the mean Qini
of 10 random orderings.

Run: PYTHONPATH=src python benchmarks/bench_decisions_uplift.py [learner ...]   (default: all of them)
     PYTHONPATH=src python benchmarks/bench_decisions_uplift.py --ceiling   (how much a per-customer policy could
     gain over the men's e-mail for everyone: visit rates per arm within the purchase-history groups, all rows)
"""

import sys

import numpy as np
import pandas as pd

from crmml.datasets import HILLSTROM_FEATURES, load_hillstrom
from crmml.decisions import UpliftModel, policy_value, qini_coefficient

CONTROL = "No E-Mail"


def hillstrom_halves(df, seed=0):
    """Seeded held-out half: (train, test) frames."""
    test = np.random.default_rng(seed).random(len(df)) < 0.5
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def response_scores(train, test, outcome, model):
    """A response model with the uplift model's xgboost settings: P(outcome | x) among e-mailed customers."""
    m = train["segment"] != CONTROL
    clf = model._model(True, model.random_state).fit(model._encode(train.loc[m, HILLSTROM_FEATURES], "response"),
                                                    train.loc[m, outcome])
    return clf.predict_proba(model._encode(test[HILLSTROM_FEATURES], "response"))[:, 1]


def one_run(train, test, outcome, learner, seed):
    m = UpliftModel(learner=learner, random_state=seed).fit(train[HILLSTROM_FEATURES], train["segment"],
                                                            train[outcome], control=CONTROL)
    u = m.predict_uplift(test[HILLSTROM_FEATURES])
    rs = response_scores(train, test, outcome, m)
    rng = np.random.default_rng(seed)
    out = {"seed": seed, "outcome": outcome, "learner": learner, "chosen": m.learner_}
    for arm in m.arms_ + ["pooled"]:
        sub = test["segment"].isin([arm, CONTROL]).to_numpy() if arm != "pooled" else np.ones(len(test), bool)
        w = (test["segment"][sub] != CONTROL).to_numpy()
        y = test[outcome][sub].to_numpy()
        # pooled: any e-mail against none; a treated customer got one e-mail at random (by the arm shares), so the
        # effect at each rank is the share-weighted mean of the arms' uplifts (not the better e-mail's uplift)
        shares = np.array([m.shares_[a] for a in m.arms_])
        score = u[arm][sub] if arm != "pooled" else u.to_numpy() @ (shares / shares.sum())
        tag = arm.split()[0].lower()
        out[f"{tag}_uplift"] = qini_coefficient(y, w, score)
        out[f"{tag}_response"] = qini_coefficient(y, w, rs[sub])
        out[f"{tag}_random"] = np.mean([qini_coefficient(y, w, rng.random(len(y))) for _ in range(10)])
    if outcome == "visit":
        rec = m.recommend(test[HILLSTROM_FEATURES])["arm"].to_numpy()
        n = len(test)
        pv = policy_value(test["visit"], test["segment"], {"policy": rec, "mens": np.full(n, "Mens E-Mail")},
                          reference="mens", n_bootstrap=500, random_state=seed)
        out["policy_value"], out["all_mens_value"] = pv.loc["policy", "value"], pv.loc["mens", "value"]
        out["diff"], out["diff_lower"], out["diff_upper"] = pv.loc["policy", ["diff", "diff_lower", "diff_upper"]]
    return out


def ceiling(df, by=("mens", "womens")):
    """Visit rate per arm within groups of customers (all 64,000 rows), the women's minus men's e-mail difference
    with its standard error, and what sending each group its better e-mail would gain over the men's e-mail for
    everyone (visits per customer; an upper bound in expectation only: noise in the differences inflates it)."""
    g = df.groupby([*by, "segment"])["visit"].agg(["mean", "size"]).unstack("segment")
    mean, size = g["mean"], g["size"]
    diff = mean["Womens E-Mail"] - mean["Mens E-Mail"]
    se = np.sqrt(sum(mean[a] * (1 - mean[a]) / size[a] for a in ("Womens E-Mail", "Mens E-Mail")))
    share = size.sum(axis=1) / size.to_numpy().sum()
    out = pd.DataFrame({"share": share, "mens": mean["Mens E-Mail"], "womens": mean["Womens E-Mail"],
                        "none": mean[CONTROL], "womens_minus_mens": diff, "se": se})
    print(out.round(4).to_string())
    print(f"better e-mail per group vs men's for everyone: +{float((share * diff.clip(lower=0)).sum()):.4f} visits "
          "per customer")


if __name__ == "__main__":
    pd.set_option("display.width", 250)
    df = load_hillstrom()
    if sys.argv[1:] == ["--ceiling"]:
        ceiling(df)
        ceiling(df, ("mens", "womens", "newbie"))
        sys.exit(0)
    rows = []
    for seed in range(5):
        train, test = hillstrom_halves(df, seed)
        for outcome in ("visit", "conversion"):
            for learner in sys.argv[1:] or ("shift", "t", "s", "st", "shared", "x", "dr", "auto"):
                rows.append(one_run(train, test, outcome, learner, seed))
                print({k: (round(v, 5) if isinstance(v, float) else v) for k, v in rows[-1].items()}, flush=True)
    res = pd.DataFrame(rows)
    print(res.groupby(["outcome", "learner"])["chosen"].agg(lambda c: "/".join(c)).to_string())
    print(res.drop(columns=["seed", "chosen"]).groupby(["outcome", "learner"]).agg(["mean", "std"]).T.round(5)
          .to_string())
