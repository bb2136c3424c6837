"""evaluate_lead_scores and plot_gains."""

import numpy as np
import pytest

from crmml.scoring import evaluate_lead_scores, plot_gains


def test_evaluation_tables_are_consistent(seed):
    rng = np.random.default_rng(seed)
    p = rng.random(5000)
    y = (rng.random(5000) < p).astype(int)
    grade = np.where(p > 0.75, "A", np.where(p > 0.5, "B", np.where(p > 0.25, "C", "D")))
    ev = evaluate_lead_scores(y, p, grade)
    assert ev["n"] == 5000 and ev["base_rate"] == pytest.approx(y.mean())
    assert 0.8 < ev["roc_auc"] < 0.9 and ev["pr_auc"] > ev["base_rate"]
    assert ev["brier"] == pytest.approx(np.mean((p - y) ** 2))
    g = ev["grades"]
    assert g["count"].sum() == 5000 and g["conversions"].sum() == y.sum()
    assert np.all(np.diff(g["conversion_rate"].to_numpy()) < 0)
    assert np.allclose(g["conversion_rate"], g["mean_probability"], atol=0.03)   # p is calibrated by design
    assert len(ev["gains"]) == 10 and ev["gains"]["cum_capture"].iloc[-1] == pytest.approx(1.0)
    # empty grades are kept (count 0, NaN rate) so tables always have A-D
    ev2 = evaluate_lead_scores(y, p, np.where(p > 0.5, "A", "D"))
    assert ev2["grades"].loc["B", "count"] == 0 and np.isnan(ev2["grades"].loc["B", "conversion_rate"])
    assert "grades" not in evaluate_lead_scores(y, p)
    # a 0-100 score, or one below 0, is ranked as given and has no Brier score (it used to be clipped)
    for score in (100 * p, p - 0.5):
        ev3 = evaluate_lead_scores(y, score)
        assert np.isnan(ev3["brier"]) and ev3["roc_auc"] == pytest.approx(ev["roc_auc"])
    one_class = evaluate_lead_scores(np.zeros(50), p[:50])              # documented: undefined, so NaN
    assert np.isnan(one_class["roc_auc"]) and np.isnan(one_class["pr_auc"]) and one_class["base_rate"] == 0


def test_plot_gains_draws_on_the_given_axes(seed):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    p = rng.random(500)
    ev = evaluate_lead_scores((rng.random(500) < p).astype(int), p)
    fig, ax = plt.subplots()
    assert plot_gains(ev, ax=ax) is ax
    x, yv = ax.lines[0].get_data()
    assert x[0] == 0 and x[-1] == pytest.approx(1) and yv[-1] == pytest.approx(1)
    assert ax.get_xlabel().startswith("share of leads")
    ax2 = plot_gains(ev["gains"])
    assert ax2 is not ax
    plt.close("all")
