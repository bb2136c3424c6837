"""Leads, CLV, segments and drift reports: the items a reviewer asks for, checked against the objects they show."""

import numpy as np
import pandas as pd
import pytest
from report_html import number, series, table

from crmml.evaluation import (
    cluster_profile,
    clv_parameters,
    clv_report,
    clv_tracking,
    drift_report,
    leads_report,
    psi_table,
    segment_migration,
    segment_profile,
    segments_report,
)


@pytest.fixture(scope="module")
def leads_fit():
    from crmml.datasets import make_synthetic_crm
    from crmml.scoring import LeadScorer

    crm = make_synthetic_crm(n_customers=50, n_leads=600, seed=3, with_events=True)
    leads = crm.leads.assign(score_time=crm.leads["created_at"] + pd.Timedelta(days=14))
    scorer = LeadScorer(model="logistic", cv=3).fit(leads, crm.lead_events)
    return scorer, leads, crm.lead_events


def test_leads_report_shows_reasons_and_sub_scores(leads_fit, tmp_path):
    scorer, leads, events = leads_fit
    text = leads_report(tmp_path / "l.html", scorer, leads, events, n_leads=10, n_boot=30).read_text()
    top = table(text, "The 10 highest-scored leads: sub-scores and reasons (log-odds contributions)")
    assert len(top) == 10
    scores = scorer.score_leads(leads, events)
    best = scores.sort_values("probability", ascending=False, kind="mergesort").head(10)
    assert top["lead_id"].tolist() == [str(i) for i in best.index]
    for col in ("fit_score", "engagement_score"):
        assert top[col].map(number).tolist() == pytest.approx(best[col].tolist(), abs=1e-3)
    why = scorer.explain(leads[leads["lead_id"] == best.index[0]], events)
    assert top.loc[0, "top_positive"] == why["top_positive"].iloc[0] != ""
    sub = series(text, "Fit and engagement sub-scores")
    y = leads.set_index("lead_id")["converted"]
    assert len(sub["converted"]["x"]) == min(200, y.sum()) and len(sub["not converted"]["x"]) == 200
    assert all(0 <= v <= 100 for v in sub["converted"]["x"] + sub["converted"]["y"])
    grades = table(text, "Leads by grade")
    assert grades["leads"].map(number).sum() == len(leads)
    assert "Fit and engagement sub-scores" in text and "ROC curve" in text     # labels given: the full report


@pytest.fixture(scope="module")
def cdnow_model(cdnow):
    from crmml.clv import CLVModel

    return CLVModel(freq="W").fit(cdnow, as_of="1997-10-01")


def test_clv_tracking_follows_the_actual_purchases(cdnow_model, cdnow):
    from crmml.clv import summarize

    t = clv_tracking(cdnow_model, cdnow, end="1998-07-01", n_points=12)
    assert t["expected"].iloc[0] == 0 and t["actual"].iloc[0] == 0           # nobody born before the first date
    assert t["expected"].is_monotonic_increasing and t["actual"].is_monotonic_increasing
    cohort = cdnow[cdnow["customer_id"].isin(cdnow_model.summary_.index)]
    assert t["actual"].iloc[-1] == summarize(cohort, "1998-07-01", freq="W")["frequency"].sum()
    # BG/NBD tracks CDNOW's cumulative repeat purchases closely (Fader, Hardie & Lee 2005, fig. 2)
    assert t["expected"].iloc[-1] == pytest.approx(t["actual"].iloc[-1], rel=0.1)
    assert t["holdout"].sum() >= 1 and not t["holdout"].iloc[0]


def test_clv_report_has_tracking_parameters_and_intervals(cdnow_model, cdnow, tmp_path):
    text = clv_report(tmp_path / "c.html", cdnow_model, cdnow, end="1998-07-01", n_points=10).read_text()
    s = series(text, "Actual and expected cumulative repeat purchases")
    assert {"actual", "expected"} <= set(s) and len(s["actual"]["y"]) == 10
    params = table(text, "Fitted parameters (95% intervals on the log scale, mapped back)")
    assert params["param"].tolist() == ["r", "alpha", "a", "b", "p", "q", "gamma"]
    lo, coef, hi, se = (params[c].map(number) for c in ("lower_95", "coef", "upper_95", "se"))
    assert ((lo < coef) & (coef < hi) & (se > 0)).all()
    expect = clv_parameters(cdnow_model)
    assert coef.tolist() == pytest.approx(expect["coef"].tolist(), rel=1e-3)
    deciles = table(text, "Holdout purchases by decile of prediction")
    assert len(deciles) == 10


def test_clv_tracking_refuses_bad_input(cdnow_model, cdnow):
    from crmml.clv import CLVModel
    from crmml.exceptions import ParameterError

    with pytest.raises(ValueError, match="must be after the model's as_of"):
        clv_tracking(cdnow_model, cdnow, end="1997-06-01")
    with pytest.raises(ParameterError, match="'n_points' parameter of clv_tracking"):
        clv_tracking(cdnow_model, cdnow, end="1998-01-01", n_points=1)
    from crmml.clv import summarize

    weighted = CLVModel(freq="W").fit_summary(summarize(cdnow, "1997-10-01", freq="W"), "1997-10-01",
                                              sample_weight=np.ones(23570))
    with pytest.raises(ValueError, match="fitted with fit\\(transactions, as_of\\)"):
        clv_tracking(weighted, cdnow, end="1998-01-01")


def test_segment_migration_counts_every_customer_once():
    rng = np.random.default_rng(0)
    before = pd.Series(rng.choice(["champions", "at risk", "lost"], 300), index=np.arange(300))
    after = pd.Series(rng.choice(["champions", "at risk", "new"], 280), index=np.arange(20, 300))
    m = segment_migration(before, after)
    assert m.to_numpy().sum() == len(before.index.union(after.index))
    assert "(new)" not in m.index and m["(gone)"].sum() == 20               # 20 left, nobody arrived
    assert segment_migration(after, before).loc["(new)"].sum() == 20        # the other way round they arrive
    assert m.loc["lost", "at risk"] == ((before == "lost") & (after.reindex(before.index) == "at risk")).sum()
    shares = segment_migration(before, after, normalize=True)
    assert shares.loc[["champions", "at risk", "lost"]].sum(axis=1).to_numpy() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="more than once"):
        segment_migration(pd.Series(["a", "b"], index=[1, 1]), after)
    with pytest.raises(TypeError, match="indexed by customer_id"):
        segment_migration(["a", "b"], after)
    # audit: a missing segment (NaN) was left out of every count by crosstab / groupby, silently
    holed = before.where(before.index % 10 != 0)
    with pytest.raises(ValueError, match=r"segment_migration: before has no segment for 30 of 300 customers \(e.g. \[0, 10, 20\]\)"):
        segment_migration(holed, after)
    with pytest.raises(ValueError, match=r"segment_profile: segments has no segment for 30 of 300 customers"):
        segment_profile(holed, pd.DataFrame({"x": 1.0}, index=before.index))


def test_segments_report_medians_migration_and_clusters(tmp_path):
    from crmml.segmentation import CustomerClusterer

    rng = np.random.default_rng(1)
    n = 400
    X = pd.DataFrame({"recency": rng.exponential(60, n), "monetary": rng.lognormal(4, 1.2, n)},
                     index=pd.RangeIndex(n, name="customer_id"))
    X.iloc[0, 1] = 1e7                                                     # one whale moves a mean, not a median
    seg = pd.Series(np.where(X["recency"] < 30, "recent", "lapsed"), index=X.index)
    old = pd.Series(np.where(X["recency"] < 60, "recent", "lapsed"), index=X.index)
    cc = CustomerClusterer(n_clusters=3, random_state=0).fit(X)
    text = segments_report(tmp_path / "s.html", seg, X, previous_segments=old, clusterer=cc, X=X).read_text()
    prof = table(text, "Medians and means per segment").set_index("segment")
    who = seg.iloc[0]
    assert number(prof.loc[who, "monetary median"]) == pytest.approx(X["monetary"][seg == who].median(), rel=1e-3)
    assert number(prof.loc[who, "monetary mean"]) > 10 * number(prof.loc[who, "monetary median"])
    mig = table(text, "Customers by segment at the first (rows) and second date")
    assert mig.drop(columns="before").map(number).to_numpy().sum() == n
    assert "Migration heat map" in text
    cl = table(text, "Cluster profile: z-scores on the scale the names come from beside raw medians")
    assert cl["name"].tolist() == list(cc.names_)
    z = cl["monetary z (log scale)"].map(number).to_numpy()
    assert z == pytest.approx(cc.zscores_["monetary"].to_numpy(), abs=1e-3)
    prof_direct = cluster_profile(cc, X)
    med = X.groupby(cc.predict(X).to_numpy())["monetary"].median()
    assert prof_direct[("monetary", "median")].to_numpy() == pytest.approx(med.to_numpy())
    assert segment_profile(seg, X)[("recency", "median")].notna().all()


def test_drift_report_puts_distributions_beside_the_psi_table(tmp_path):
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"tenure": rng.normal(size=800), "spend": rng.lognormal(size=800),
                        "channel": rng.choice(["web", "store"], 800)})
    cur = pd.DataFrame({"tenure": rng.normal(1, 1, 600), "spend": rng.lognormal(size=600),
                        "channel": rng.choice(["web", "store"], 600, p=[0.9, 0.1])})
    text = drift_report(tmp_path / "d.html", ref, cur).read_text()
    section = text[text.index("<h2>Population stability</h2>"):]
    assert section.index("PSI by feature") < section.index("Distributions: reference and current")
    shown = table(text, "PSI by feature").set_index("feature")
    expect = psi_table(ref, cur)
    assert shown["psi"].map(number).to_numpy() == pytest.approx(expect["psi"].to_numpy(), abs=1e-3)
    from report_html import plot_data

    panels = plot_data(text)["Distributions: reference and current"]
    assert [p["title"].split("\n")[0] for p in panels] == ["tenure", "spend", "channel"]
    for p in panels:
        names = {s["name"] for s in p["series"]}
        assert names == {"reference", "current"}
        assert sum(v for v in next(s for s in p["series"] if s["name"] == "current")["y"] if v) <= 1 + 1e-9
    assert "major shift" in panels[0]["title"]
