"""``crmml demo``: the whole pipeline on the real data shipped with crmml.

Data: the UCI Online Retail sample (1,500 customers' complete histories, shipped in
``datasets/``), UCI Bank Marketing (41,188 calls, shipped) and CDNOW (shipped too, the copy
``lifetimes`` distributes). Steps, each writing an HTML report, a score file and a saved model:

1. segments: RFM segments of the online retail customers (and behaviour clusters);
2. clv: BG/NBD + Gamma-Gamma on CDNOW, calibrated on 39 weeks and checked on the next 39;
3. churn: point-in-time churn model on online retail, with a rolling backtest;
4. leads: lead scoring on bank marketing, trained on the earlier 75% of calls and tested
   on the later 25% (the file is in time order);
5. nbo: next-best-offer on online retail, evaluated on the last 30 days.

A step whose crmml module is not available is skipped with a message; ``index.html``
links every report with its headline figures.
"""

from __future__ import annotations

import html
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["run_demo", "STEPS"]


class _Ctx:
    def __init__(self, out: Path, quick: bool, say, verbose: bool = False):
        self.out, self.quick, self.say, self.verbose = out, quick, say, verbose
        self.results: list[dict] = []
        self._data: dict = {}

    def data(self, name):
        from crmml import datasets

        if name not in self._data:
            loader = {"retail": lambda: datasets.load_online_retail(sample=True),
                      "bank": lambda: datasets.load_bank_marketing(sample=True),
                      "cdnow": datasets.load_cdnow}[name]
            self._data[name] = loader()
        return self._data[name]

    def save_model(self, model, name):
        from crmml.persistence import save

        return save(model, self.out / "models" / f"{name}.zip")

    def scores(self, df, name):
        from crmml._tables import write_table

        return write_table(df, self.out / "scores" / f"{name}.csv")


def _retail_end(tx):
    return pd.Timestamp(tx["timestamp"].max()).normalize() + pd.Timedelta(days=1)


# ------------------------------------------------------------------------------------------------ steps
def _step_segments(ctx: _Ctx) -> dict:
    from matplotlib.figure import Figure

    from crmml.evaluation import report, summarize_data
    from crmml.segmentation import RFMSegmenter, rfm_table, segment_summary

    tx = ctx.data("retail")
    as_of = _retail_end(tx)
    rfm = rfm_table(tx, as_of)
    seg = RFMSegmenter().fit(rfm)
    out = seg.transform(rfm)
    summary = segment_summary(out, rfm)
    figures = {}
    try:
        from crmml.segmentation import plot_rf_grid, plot_segment_sizes

        figures["Segment sizes: share of customers and of net revenue"] = plot_segment_sizes(summary).figure
        figures["Recency x frequency scores: mean net spend, customer counts"] = plot_rf_grid(seg, rfm).figure
    except ImportError:  # the module's plots are not there: plain bars
        fig = Figure(figsize=(6.5, 4.0), layout="constrained")
        ax = fig.add_subplot()
        counts = summary["customers"]
        ax.barh([str(i) for i in counts.index][::-1], counts.to_numpy()[::-1], color="#1f77b4")
        ax.set(xlabel="Customers", title="RFM segment sizes")
        figures["RFM segment sizes"] = fig
    tables = {"Segment summary": summary}
    metrics = {"customers": int(len(out)), "segments": int(out["segment"].nunique())}
    result = out.copy()
    from crmml.evaluation import plot_migration, segment_migration, segment_profile

    earlier = as_of - pd.Timedelta(days=90)             # the same segmenter, applied 90 days before
    moved = segment_migration(seg.transform(rfm_table(tx, earlier)), out)
    sections = [("Segment profile", [("Medians and means per segment (a few large spenders move a mean)",
                                      segment_profile(out, rfm))]),
                ("Segment migration", [(f"Customers by segment on {earlier.date()} (rows) and {as_of.date()}",
                                        moved), ("Migration heat map", plot_migration(moved))])]
    try:
        from crmml.segmentation import CustomerClusterer

        clus = CustomerClusterer(n_clusters=4 if ctx.quick else "auto", random_state=0).fit(rfm)
        named = clus.transform(rfm)
        result["cluster"] = named["segment"]
        tables["Behaviour clusters (k-means on log RFM, named by their profile)"] = segment_summary(named, rfm)
        from crmml.evaluation import cluster_profile

        sections.append(("Behaviour clusters", [("Cluster profile: z-scores on the log scale the names come from "
                                                 "beside raw medians", cluster_profile(clus, rfm))]))
        metrics["clusters"] = int(named["cluster"].nunique())
        try:
            from crmml.segmentation import plot_cluster_profiles

            figures["Behaviour clusters: profile z-scores"] = plot_cluster_profiles(clus).figure
        except ImportError:
            pass
        ctx.save_model(clus, "clusterer")
    except Exception as exc:  # the clusterer is optional in the demo
        ctx.say(f"  (behaviour clusters skipped: {type(exc).__name__}: {exc})")
    ctx.save_model(seg, "rfm_segmenter")
    ctx.scores(result, "segments")
    path = report(ctx.out / "segments.html", title="Customer segments (RFM)",
                  subtitle="UCI Online Retail sample: quintile RFM scores mapped to 11 named segments",
                  data_summary=summarize_data(tx, as_of=as_of), metrics=metrics, figures=figures, tables=tables,
                  sections=sections)
    return {"report": path, "headline": f"{metrics['customers']:,} customers in {metrics['segments']} segments"}


def _step_clv(ctx: _Ctx) -> dict:
    from crmml.clv import CLVModel, plot_clv_distribution
    from crmml.evaluation import clv_decile_table, report, summarize_data

    tx = ctx.data("cdnow")
    cal_end, obs_end = pd.Timestamp("1997-10-01"), pd.Timestamp("1998-07-01")
    horizon = int((obs_end - cal_end).days)
    model = CLVModel(horizon_days=horizon, discount_rate=0.0).fit(tx, cal_end)
    pred = model.predict()
    hold = tx[(tx["timestamp"] >= cal_end) & (tx["timestamp"] < obs_end)]
    actual = hold.groupby("customer_id")["amount"].sum().reindex(pred.index, fill_value=0.0)
    actual_n = hold.groupby("customer_id")["timestamp"].nunique().reindex(pred.index, fill_value=0)
    value = pred["clv"].fillna(0.0)
    table = clv_decile_table(value, actual)
    # naive baseline: each customer keeps the repeat-purchase rate and spend of the calibration period
    # (purchases after the first day, per day since the first purchase) over the holdout
    cal = tx[tx["timestamp"] < cal_end]
    first = cal.groupby("customer_id")["timestamp"].transform("min")
    rep = cal[cal["timestamp"] > first]
    cal_days = (cal_end - cal.groupby("customer_id")["timestamp"].min()).dt.days.clip(lower=1)
    rate_n = rep.groupby("customer_id")["timestamp"].nunique().reindex(cal_days.index, fill_value=0) / cal_days
    rate_v = rep.groupby("customer_id")["amount"].sum().reindex(cal_days.index, fill_value=0.0) / cal_days
    naive = (rate_v * horizon).reindex(pred.index, fill_value=0.0)
    naive_n = (rate_n * horizon).reindex(pred.index, fill_value=0.0)

    def _clv_metrics(v, n_pred):
        t = clv_decile_table(v, actual)
        return {"customers": int(len(pred)), "holdout_weeks": round(horizon / 7, 1),
                "predicted_total_value": float(v.sum()), "actual_total_value": float(actual.sum()),
                "predicted_total_purchases": float(n_pred.sum()), "actual_total_purchases": float(actual_n.sum()),
                "mae_value": float((v - actual).abs().mean()),
                "spearman_value": float(v.rank().corr(actual.rank())),
                "top_decile_actual_share": float(t["actual_share"].iloc[0])}

    metrics = _clv_metrics(value, pred["expected_purchases"])
    baseline = _clv_metrics(naive, naive_n)
    from crmml.evaluation import bootstrap_metrics

    def _judged(a, v):                  # the per-customer metrics, resampled over customers for intervals
        t = clv_decile_table(v, a)
        return {"mae_value": float(np.abs(v - a).mean()),
                "spearman_value": float(pd.Series(v).rank().corr(pd.Series(a).rank())),
                "top_decile_actual_share": float(t["actual_share"].iloc[0])}

    intervals = bootstrap_metrics(actual.to_numpy(), value.to_numpy(), naive.to_numpy(), metrics=_judged,
                                  n_boot=50 if ctx.quick else 200)
    figures = {}                        # the decile table is shown once, as a table
    try:
        from crmml.clv import calibration_holdout, plot_calibration_holdout, plot_p_alive_matrix

        summ = calibration_holdout(tx, cal_end, obs_end, freq=model.freq, occasion=model.occasion)
        figures["Holdout purchases: actual vs expected by calibration frequency"] = \
            plot_calibration_holdout(model.purchase_model_, summ).figure
        figures["P(alive) by recency and frequency"] = plot_p_alive_matrix(model.purchase_model_).figure
        figures["Predicted CLV distribution"] = plot_clv_distribution(pred).figure
    except Exception as exc:  # plots of another module: optional
        ctx.say(f"  (some CLV plots skipped: {type(exc).__name__}: {exc})")
    from crmml.evaluation import clv_parameters, clv_tracking, plot_clv_tracking

    track = clv_tracking(model, tx, end=obs_end, n_points=20 if ctx.quick else 40)
    sections = [("Tracking", [("Actual and expected cumulative repeat purchases of the calibration customers",
                               plot_clv_tracking(track)), ("Tracking (last rows)", track.tail(8))]),
                ("Parameters", [("Fitted parameters with standard errors and 95% intervals", clv_parameters(model))])]
    ctx.save_model(model, "clv")
    ctx.scores(pred, "clv")
    path = report(ctx.out / "clv.html", title="Customer lifetime value (BG/NBD + Gamma-Gamma)",
                  subtitle=f"CDNOW: calibrated before {cal_end.date()}, checked on {cal_end.date()}.."
                           f"{obs_end.date()} (undiscounted value over the holdout)",
                  data_summary=summarize_data(tx, as_of=cal_end), metrics=metrics, baseline_metrics=baseline,
                  baseline_name="naive: repeat rate so far", figures=figures, sections=sections,
                  metric_intervals=intervals,
                  notes=[f"Intervals: 95% bootstrap over customers ({50 if ctx.quick else 200} resamples); a "
                         "difference is coloured only when its interval excludes zero."],
                  tables={"Predicted vs actual by decile of predicted value": table})
    return {"report": path, "headline": f"holdout value predicted {metrics['predicted_total_value']:,.0f} vs "
                                        f"actual {metrics['actual_total_value']:,.0f}"}


def _churn_shap(model, X):
    """Per-row SHAP values (log-odds) of a fitted ChurnModel, or None when they cannot be had."""
    try:
        import xgboost as xgb

        Xe = model._prepare(X, "demo")
        dm = xgb.DMatrix(Xe, enable_categorical=True)
        c = model.model_.get_booster().predict(dm, pred_contribs=True,
                                               iteration_range=(0, model.best_iteration_ + 1))
        return pd.DataFrame(c[:, :-1], index=X.index, columns=list(model.feature_names_in_))
    except Exception:  # private API of crmml.churn: fall back to the global table
        return None


def _step_churn(ctx: _Ctx) -> dict:
    from crmml.churn import ChurnModel, backtest
    from crmml.evaluation import classification_report, summarize_data

    tx = ctx.data("retail")
    end = _retail_end(tx)
    horizon = 90
    last = end - pd.Timedelta(days=horizon)              # the last cutoff with a full label window
    n_cut = 2 if ctx.quick else 4
    cutoffs = [last - pd.Timedelta(days=30 * k) for k in range(n_cut)][::-1]
    # one thread: on ~1,000 rows a second OpenMP thread only adds contention on a shared machine
    model = ChurnModel(n_estimators=60 if ctx.quick else 400, random_state=0, n_jobs=1)
    kw = {"windows": (30, 90, 365)} if ctx.quick else {}
    res = backtest(tx, cutoffs, horizon_days=horizon, n_train_snapshots=2 if ctx.quick else 3,
                   snapshot_step_days=30, model=model, verbose=ctx.verbose, **kw)
    c = max(res.models)
    pred = res.predictions[res.predictions["cutoff"] == c]
    y, p, pb = pred["churned"].to_numpy(), pred["p_model"].to_numpy(), pred["p_baseline"].to_numpy()
    fitted, X = res.models[c], res.test_features[c]
    shap_values = _churn_shap(fitted, X)
    tables, sections = {}, []
    if shap_values is None:
        tables["Global importance"] = fitted.global_importance(X)
    first = min(res.models)
    if first != c:                      # stability of the score and top features between two snapshots
        from crmml.evaluation import psi_table

        p_first = fitted.predict_proba(res.test_features[first])[:, 1]     # the same model on both snapshots
        imp = fitted.global_importance()
        top = [f for f in imp.sort_values("gain", ascending=False).index[:10] if f in X.columns]
        ref = res.test_features[first][top].assign(churn_score=p_first)
        cur = X[top].assign(churn_score=p)
        from crmml.evaluation import plot_drift

        drift = psi_table(ref, cur, ["churn_score", *top])
        sections.append((f"Population stability (PSI), {pd.Timestamp(first).date()} -> {pd.Timestamp(c).date()}",
                         [("PSI by feature", drift),
                          ("Distributions at both cutoffs", plot_drift(ref, cur, list(drift.index), psi=drift))]))
    bt = res.metrics.copy()
    bt["cutoff"] = bt["cutoff"].dt.date.astype(str)
    tables["Backtest summary (mean, std over cutoffs)"] = res.summary
    scored = fitted.explain(X, top_n=3)
    ctx.save_model(fitted, "churn_model")
    ctx.scores(scored, "churn")
    Xs = X[list(shap_values.columns)] if shap_values is not None else None
    summary = summarize_data(tx, as_of=c)
    summary.update({"at-risk customers at as_of": int(len(y)), "horizon (days)": horizon,
                    "backtest cutoffs": ", ".join(str(pd.Timestamp(t).date()) for t in cutoffs)})
    path = classification_report(
        ctx.out / "churn.html", y, p, title="Churn risk",
        subtitle=f"UCI Online Retail sample: no purchase within {horizon} days after the cutoff; "
                 f"plots and metrics at the last cutoff {pd.Timestamp(c).date()}",
        baseline_prob=pb, baseline_name="recency-frequency baseline", data_summary=summary,
        shap_values=shap_values, X=Xs, backtest=bt, extra_tables=tables, extra_sections=sections,
        n_boot=50 if ctx.quick else 200,
        notes=["SHAP values of the gradient-boosted model are in log-odds, not probability."]
        + ([f"At {pd.Timestamp(c).date()} the recency-frequency baseline validated better than the boosted model, "
            "so the churn model predicts with the baseline (ChurnModel.selection_); the SHAP plots describe the "
            "boosted model."] if getattr(fitted, "chosen_", "") == "recency_frequency_baseline" else []))
    # the headline quotes every cutoff: mean and spread, beside the baseline (never the best cutoff alone)
    auc = res.summary["roc_auc"]
    return {"report": path, "headline": f"mean ROC-AUC over {len(cutoffs)} cutoffs "
                                        f"{auc.loc['churn_model', 'mean']:.3f} ± {auc.loc['churn_model', 'std']:.3f} "
                                        f"vs baseline {auc.loc['baseline', 'mean']:.3f} ± "
                                        f"{auc.loc['baseline', 'std']:.3f}"}


def _step_leads(ctx: _Ctx) -> dict:
    from crmml.evaluation import classification_report, lead_sections, summarize_data
    from crmml.scoring import LeadScorer

    leads = ctx.data("bank")
    n_train = int(len(leads) * 0.75)
    train, test = leads.iloc[:n_train], leads.iloc[n_train:]
    if ctx.quick:                       # an eighth of the training calls, still all before the test calls
        train = train.iloc[::8]
    model = LeadScorer(model="logistic" if ctx.quick else "auto", cv=3 if ctx.quick else 5,
                       random_state=0).fit(train)
    scored = model.score_leads(test)
    y = test["converted"].to_numpy().astype(int)
    p = scored["probability"].to_numpy()
    # baseline: the conversion rate of the lead's previous-campaign outcome, learned on the training calls
    base_col = "poutcome" if "poutcome" in leads.columns else None
    baseline = None
    if base_col:
        rates = train.groupby(base_col, observed=True)["converted"].mean()
        baseline = test[base_col].map(rates).astype(float).fillna(float(train["converted"].mean())).to_numpy()
    contrib = model.contributions(test)
    attrs = test.reindex(columns=contrib.columns)
    X = attrs if all(pd.api.types.is_numeric_dtype(attrs[c]) for c in attrs.columns) else None
    ctx.save_model(model, "lead_scorer")
    ctx.scores(scored, "leads")
    summary = summarize_data(test, key="lead_id", time=None, label="converted")
    summary = {"training calls": len(train), "training conversion rate": float(train["converted"].mean()),
               **summary, "model": model.model_kind_}
    notes = []
    if abs(y.mean() - train["converted"].mean()) > 0.3 * train["converted"].mean():
        notes.append(f"The later calls convert at {y.mean():.1%} against {train['converted'].mean():.1%} in the "
                     "training calls (the campaign changed over time): check the calibration curve before using the "
                     "probabilities as rates; the ranking metrics (ROC-AUC, lift) do not depend on it.")
    path = classification_report(
        ctx.out / "leads.html", y, p, title="Lead scoring",
        subtitle="UCI Bank Marketing: trained on the earlier 75% of calls, tested on the later 25% "
                 "(the call duration, which leaks the outcome, is dropped)",
        baseline_prob=baseline, baseline_name="previous-outcome rate", data_summary=summary,
        shap_values=contrib.to_numpy(), X=X, feature_names=list(contrib.columns), shap_units="log-odds",
        extra_sections=lead_sections(model, test, y=y, scores=scored, n_leads=25), n_boot=50 if ctx.quick else 200,
        notes=notes)
    from crmml.evaluation import roc_auc

    return {"report": path, "headline": f"test ROC-AUC {roc_auc(y, p):.3f}"
                                        + (f" (baseline {roc_auc(y, baseline):.3f})" if baseline is not None
                                           else "")}


def _step_nbo(ctx: _Ctx) -> dict:
    from crmml.evaluation import report, summarize_data
    from crmml.recommend import NextBestOffer, evaluate_recommendations

    tx = ctx.data("retail")
    end = _retail_end(tx)
    split = end - pd.Timedelta(days=30)
    res = evaluate_recommendations(NextBestOffer(), tx, split, horizon_days=30, k=10)
    model = NextBestOffer().fit(tx, as_of=end)
    recs = model.recommend(k=5)
    ctx.save_model(model, "next_best_offer")
    ctx.scores(recs.set_index("customer_id"), "next_best_offer")
    row = res.iloc[0]
    metrics = {k: float(row[k]) for k in ("precision", "recall", "map", "ndcg", "coverage") if k in res.columns}
    base = None
    if "past_purchases" in res.index:
        base = {k: float(res.loc["past_purchases", k]) for k in metrics}
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    cols = [c for c in ("precision", "recall", "map", "ndcg") if c in res.columns]
    width = 0.8 / max(len(res), 1)
    for i, (name, r) in enumerate(res.iterrows()):
        ax.bar(np.arange(len(cols)) + i * width, r[cols].to_numpy(dtype=float), width=width, label=str(name))
    ax.set_xticks(np.arange(len(cols)) + 0.4 - width / 2, cols)
    ax.set(ylabel="metric at k = 10", title="Next-best-offer vs baselines (last 30 days)")
    ax.legend()
    path = report(ctx.out / "next_best_offer.html", title="Next-best-offer",
                  subtitle=f"UCI Online Retail sample: fitted before {split.date()}, scored on the next 30 days",
                  data_summary=summarize_data(tx, as_of=split), metrics=metrics, baseline_metrics=base,
                  baseline_name="past purchases", figures={"Ranking metrics": fig},
                  tables={"Evaluation at k = 10": res, "Example offers": recs.head(30)})
    return {"report": path, "headline": f"precision@10 {metrics.get('precision', float('nan')):.3f}"}


STEPS = [("segments", _step_segments), ("clv", _step_clv), ("churn", _step_churn), ("leads", _step_leads),
         ("nbo", _step_nbo)]


def _index(ctx: _Ctx, total: float) -> Path:
    rows = []
    for r in ctx.results:
        link = (f'<a href="{html.escape(Path(r["report"]).name)}">{html.escape(Path(r["report"]).name)}</a>'
                if r.get("report") else "")
        rows.append(f"<tr><td>{html.escape(r['step'])}</td><td>{html.escape(r['status'])}</td><td>{link}</td>"
                    f"<td>{html.escape(r.get('headline', ''))}</td><td>{r['seconds']:.1f}</td></tr>")
    doc = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>crmml demo</title>'
           "<style>body{font-family:sans-serif;max-width:1000px;margin:24px auto}td,th{border:1px solid #ddd;"
           "padding:4px 10px}table{border-collapse:collapse}</style></head><body><h1>crmml demo</h1>"
           f"<p>Finished in {total:.0f} s. Scores in <code>scores/</code>, saved models in <code>models/</code>."
           "</p><table><tr><th>step</th><th>status</th><th>report</th><th>headline</th><th>seconds</th></tr>"
           f"{''.join(rows)}</table></body></html>\n")
    path = ctx.out / "index.html"
    path.write_text(doc, encoding="utf-8")
    return path


def run_demo(out, *, quick: bool = False, say=None, steps=None, verbose: bool = False) -> list[dict]:
    """Run the demo into folder ``out``; returns one dict per step (step, status, report, headline, seconds).

    ``say`` receives one line per step start and end; ``verbose=True`` adds progress bars for long loops.

    A step fails softly: a missing module is reported as "skipped", an error as "failed"
    (with its message), and the other steps still run.
    """
    say = say or (lambda msg: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = _Ctx(out, quick, say, verbose)
    t_all = time.perf_counter()
    chosen = [s for s in STEPS if steps is None or s[0] in steps]
    for i, (name, fn) in enumerate(chosen, 1):
        say(f"[{i}/{len(chosen)}] {name} ...")
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = {"step": name, "status": "ok", **fn(ctx)}
            except (ImportError, NotImplementedError) as exc:
                res = {"step": name, "status": "skipped", "headline": f"not available: {exc}"}
            except Exception as exc:  # keep the demo going; report the failure
                res = {"step": name, "status": "failed", "headline": f"{type(exc).__name__}: {exc}"}
                say(traceback.format_exc(limit=3))
        res["seconds"] = time.perf_counter() - t0
        ctx.results.append(res)
        say(f"[{i}/{len(chosen)}] {name}: {res['status']} in {res['seconds']:.1f} s"
            + (f" - {res.get('headline')}" if res.get("headline") else ""))
    index = _index(ctx, time.perf_counter() - t_all)
    say(f"done in {time.perf_counter() - t_all:.0f} s: open {index}")
    return ctx.results
