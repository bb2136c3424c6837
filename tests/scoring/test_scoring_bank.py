"""Real-data acceptance on UCI bank marketing (bank-additional-full, 41,188 calls, without `duration`)."""

import numpy as np
import pandas as pd
import pytest

from crmml.scoring import LeadScorer

#: Moro, Cortez & Rita (2014) report a realistic AUC of about 0.80 without the leaking call duration;
#: our 3-fold cross-validated floor leaves room for fold noise (std ~0.007) and the moderate model size.
CV_ROC_AUC_FLOOR = 0.78


@pytest.fixture(scope="module")
def bank_scorer(bank_leads):
    # the published protocol: random folds over all calls (forward validation is tested below)
    return LeadScorer(cv=3, validation="random", exclude=["duration"], random_state=0).fit(bank_leads)


@pytest.mark.slow
def test_bank_cross_validated_roc_auc_reaches_the_published_level(bank_scorer):
    ev = bank_scorer.evaluate()
    best = bank_scorer.cv_results_.loc[bank_scorer.model_kind_]
    print(f"\nbank marketing 3-fold CV: {bank_scorer.cv_results_.round(4).to_dict('index')}; "
          f"chosen {bank_scorer.model_kind_}")
    assert best["roc_auc"] >= CV_ROC_AUC_FLOOR
    assert ev["roc_auc"] >= CV_ROC_AUC_FLOOR
    assert ev["pr_auc"] >= 2.5 * ev["base_rate"]          # base rate 11.3%
    assert ev["gains"]["lift"].iloc[0] >= 3.0              # top decile converts >= 3x the average


@pytest.mark.slow
def test_bank_conversion_rate_falls_from_grade_a_to_d(bank_scorer):
    g = bank_scorer.evaluate()["grades"]
    print("\n", g)
    assert (g["count"] >= 200).all(), g
    assert np.all(np.diff(g["conversion_rate"].to_numpy()) < 0), g
    # calibrated: each grade's mean probability is close to its observed conversion rate (0.0135 measured, grade A)
    assert np.allclose(g["mean_probability"], g["conversion_rate"], rtol=0, atol=0.02), g


@pytest.mark.slow
def test_bank_scoring_is_robust_and_explained(bank_leads, bank_scorer):
    new = bank_leads.head(200).copy()
    new["job"] = new["job"].where(new.index % 2 == 0, "astronaut")     # unseen category
    new["campaign_name"] = "spring"                                     # extra column
    out = bank_scorer.score_leads(new)
    assert out["probability"].notna().all() and len(out) == 200
    ex = bank_scorer.explain(bank_leads.head(30), top_n=3)
    assert ex["top_negative"].str.contains(r"^\w+ = .+ \([+-]\d\.\d\d\)").all()
    assert "duration" not in bank_scorer.attributes_


def _forward_fold_aucs(scorer, train):
    """ROC-AUC of the fitted scorer's out-of-fold scores within each forward fold, oldest first."""
    from crmml.evaluation import roc_auc
    from crmml.scoring._validation import lead_folds, lead_times

    folds = lead_folds(lead_times(train), train["converted"].to_numpy(), scorer.cv, scorer.validation,
                       scorer.random_state)[0]
    oof, ids = scorer.oof_, train["lead_id"].to_numpy()
    return [roc_auc(o["converted"], o["probability"]) for o in (oof.reindex(ids[te]).dropna() for _, te in folds)]


@pytest.mark.slow
def test_bank_forward_validation_picks_the_family_that_is_better_on_later_calls(bank_leads):
    """Walk-forward on the calls ordered by date (2008-05 .. 2010-11): at every split, the family chosen on
    forward folds does at least as well on the later calls as the one random folds choose, and better on the
    mean. (The conversion rate rises from 3% to about 50% over the period, so forward ROC-AUC is far below
    the 0.78 of random folds, and ``evaluate()`` cannot predict it within 0.02 here: both printed.)"""
    rows = []
    for frac in (0.6, 0.7, 0.8, 0.9):
        n = int(frac * len(bank_leads))
        train, test = bank_leads.iloc[:n], bank_leads.iloc[n:]
        row = {"split": frac}
        for validation in ("auto", "random"):
            s = LeadScorer(validation=validation, random_state=0).fit(train)
            row[validation] = (s.model_kind_, round(s.evaluate()["roc_auc"], 3), round(s.evaluate(test)["roc_auc"], 3))
            if validation == "auto":            # other estimates from the same out-of-fold scores, for the README
                per_fold = _forward_fold_aucs(s, train)
                row["fold mean / last"] = (round(float(np.mean(per_fold)), 3), round(per_fold[-1], 3))
        rows.append(row)
    print("\n(chosen family, evaluate() ROC-AUC, forward ROC-AUC):\n" + pd.DataFrame(rows).to_string())
    fwd_time = np.array([r["auto"][2] for r in rows])
    fwd_random = np.array([r["random"][2] for r in rows])
    assert np.all(fwd_time >= fwd_random - 1e-9), rows
    assert fwd_time.mean() > fwd_random.mean(), rows


def test_logistic_scores_do_not_depend_on_the_number_of_blas_threads(bank_leads):
    """The logistic model's Newton steps ran on every BLAS thread: its coefficients, and every lead's
    probability, moved in the 15th digit with the machine's core count (1.4e-15 on this data between one and two
    threads), and spin-waiting threads made the fit 5-8x slower on a busy 2-core machine. It runs on one."""
    from threadpoolctl import threadpool_limits

    train = bank_leads.iloc[:20_000]
    out = []
    for n in (1, 2):
        with threadpool_limits(limits=n, user_api="blas"):
            scorer = LeadScorer(model="logistic", cv=2, exclude=["duration"], random_state=0).fit(train)
            out.append(scorer.score_leads(bank_leads.iloc[20_000:])["probability"].to_numpy())
    np.testing.assert_array_equal(out[0], out[1])
