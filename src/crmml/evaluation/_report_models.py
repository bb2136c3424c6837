"""Report sections for fitted models: lead scores with their reasons, CLV tracking and parameter intervals.

- :func:`lead_table` gives the highest-scored leads with their fit / engagement sub-scores and reasons;
- :func:`leads_report` writes it beside the classification report of the scores (when labels exist);
- :func:`clv_tracking` compares actual with expected cumulative repeat purchases over calendar time,
  computed from the fitted purchase model's public API (``expected_purchases``);
- :func:`clv_parameters` lists every fitted CLV parameter with its standard error and 95% interval;
- :func:`clv_report` writes both, and the holdout decile table when a later period is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils._plot_text import literal_text
from crmml._utils._plotting import axes_or_new
from crmml.evaluation._report import report
from crmml.exceptions import ParameterError

__all__ = ["lead_table", "lead_sections", "leads_report", "clv_tracking", "plot_clv_tracking", "clv_parameters",
           "clv_report"]


def lead_table(scorer, leads: pd.DataFrame, events=None, *, n_leads: int = 25, top_n: int = 3,
               **score_kw) -> pd.DataFrame:
    """The ``n_leads`` highest-scored leads: score, grade, fit and engagement sub-scores and reasons.

    Only the shown leads are explained (reasons are per lead, so this equals explaining all).

    Parameters
    ----------
    scorer : fitted :class:`crmml.scoring.LeadScorer`
    leads, events : DataFrame
        As for :meth:`LeadScorer.score_leads`.
    n_leads : int, default=25
    top_n : int, default=3
        Reasons for and against each lead.
    **score_kw
        ``as_of``, ``columns``, ``event_columns`` of :meth:`LeadScorer.score_leads`.

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.scoring import LeadScorer
    >>> crm = make_synthetic_crm(n_customers=50, n_leads=400, seed=0, with_events=False)
    >>> leads = crm.leads.drop(columns=["converted"])
    >>> s = LeadScorer(model="logistic", cv=3).fit(crm.leads)
    >>> lead_table(s, leads, n_leads=3).columns.tolist()
    ['score', 'grade', 'fit_score', 'engagement_score', 'top_positive', 'top_negative']
    """
    scores = scorer.score_leads(leads, events, **score_kw)
    order = np.argsort(-scores["probability"].to_numpy(), kind="mergesort")[:n_leads]
    reasons = scorer.explain(leads.iloc[order], events, top_n=top_n, **score_kw)
    out = scores.iloc[order][["score", "grade", "fit_score", "engagement_score"]]
    return out.join(reasons[["top_positive", "top_negative"]])


def _subscore_figure(scores: pd.DataFrame, y):
    ax = axes_or_new(None, (5.0, 4.0))
    if scores["engagement_score"].notna().any():
        fit, eng = scores["fit_score"].to_numpy(float), scores["engagement_score"].to_numpy(float)
        groups = [("all leads", np.ones(len(fit), bool), "#1f77b4")] if y is None else \
            [("not converted", y == 0, "#9aa5b1"), ("converted", y == 1, "#d62728")]
        for name, m, colour in groups:
            ax.scatter(fit[m], eng[m], s=6, alpha=0.5, color=colour, label=f"{name} (n={int(m.sum()):,})",
                       gid=name, rasterized=True)
        ax.set(xlabel="fit score (who the lead is)", ylabel="engagement score (what the lead did)",
               title="Fit and engagement sub-scores", xlim=(0, 100), ylim=(0, 100))
    else:
        ax.hist(scores["fit_score"], bins=20, color="#1f77b4")
        ax.set(xlabel="fit score", ylabel="leads", title="Fit score (no events: no engagement score)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8)
    return ax


def leads_report(path, scorer, leads: pd.DataFrame, events=None, *, label: str = "converted", baseline_prob=None,
                 baseline_name: str = "baseline", n_leads: int = 25, top_n: int = 3, title: str = "Lead scoring",
                 subtitle: str | None = None, n_boot: int = 200, notes=None, **score_kw):
    """A leads report: the top leads with per-lead reasons and fit / engagement sub-scores, the
    sub-scores plot, leads and conversion by grade and, when ``leads`` has the ``label`` column,
    the whole classification report of the probabilities (intervals, baseline on every curve).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.scoring import LeadScorer
    >>> crm = make_synthetic_crm(n_customers=50, n_leads=400, seed=0, with_events=False)
    >>> s = LeadScorer(model="logistic", cv=3).fit(crm.leads)
    >>> new_leads = crm.leads.drop(columns="converted")          # no outcomes yet: no classification part
    >>> out = leads_report(pathlib.Path(tempfile.mkdtemp()) / "l.html", s, new_leads)
    >>> "top_positive" in out.read_text()
    True
    """
    from crmml.evaluation._report_classification import classification_report

    scores = scorer.score_leads(leads, events, **score_kw)
    y = pd.to_numeric(leads[label]).to_numpy() if label in leads.columns else None
    sections = lead_sections(scorer, leads, events, y=y, scores=scores, n_leads=n_leads, top_n=top_n, **score_kw)
    if y is None:
        return report(path, title=title, subtitle=subtitle, notes=notes, sections=sections,
                      data_summary={"leads": len(scores)})
    return classification_report(path, y, scores["probability"].to_numpy(), title=title, subtitle=subtitle,
                                 baseline_prob=baseline_prob, baseline_name=baseline_name, n_boot=n_boot,
                                 notes=notes, extra_sections=sections,
                                 data_summary={"leads": len(scores), "conversion rate": float(y.mean())})


def lead_sections(scorer, leads: pd.DataFrame, events=None, *, y=None, scores=None, n_leads: int = 25,
                  top_n: int = 3, **score_kw) -> list:
    """The "Leads" section of a report: top leads with reasons, the sub-scores plot, leads by grade.

    Returns ``[("Leads", [(caption, table or Axes), ...])]`` for ``sections=`` of :func:`report`
    (or ``extra_sections=`` of :func:`classification_report`). ``y``: the outcomes (0/1) of
    ``leads``, for the conversion rate by grade and the plot's colours; ``scores``: the output of
    ``scorer.score_leads`` when already computed.

    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.scoring import LeadScorer
    >>> crm = make_synthetic_crm(n_customers=50, n_leads=400, seed=0, with_events=False)
    >>> s = LeadScorer(model="logistic", cv=3).fit(crm.leads)
    >>> [caption for caption, _ in lead_sections(s, crm.leads, n_leads=5)[0][1]]
    ['The 5 highest-scored leads: sub-scores and reasons (log-odds contributions)', \
'Fit and engagement sub-scores', 'Leads by grade']
    """
    scores = scorer.score_leads(leads, events, **score_kw) if scores is None else scores
    by_grade = scores.groupby("grade", observed=True).agg(leads=("score", "size"), mean_score=("score", "mean"))
    if y is not None:
        y = np.asarray(y, dtype=float)
        by_grade["converted"] = pd.Series(y, index=scores.index).groupby(scores["grade"], observed=True).sum()
        by_grade["conversion_rate"] = by_grade["converted"] / by_grade["leads"]
    return [("Leads", [(f"The {min(n_leads, len(scores))} highest-scored leads: sub-scores and reasons "
                        "(log-odds contributions)",
                        lead_table(scorer, leads, events, n_leads=n_leads, top_n=top_n, **score_kw)),
                       ("Fit and engagement sub-scores", _subscore_figure(scores, y)),
                       ("Leads by grade", by_grade)])]


def clv_tracking(model, transactions: pd.DataFrame, *, end, n_points: int = 30) -> pd.DataFrame:
    """Actual and expected cumulative repeat purchases of the training customers over calendar time.

    The expected count at date ``d`` is the sum over the customers of the fitted purchase model's
    ``expected_purchases`` over their age at ``d`` (time since their first purchase; ages rounded
    to 0.01 of the model's time unit). The actual count is the sum of their ``frequency`` in
    :func:`crmml.clv.summarize` at ``d``, so the same occasion rules apply. Dates after the
    model's ``as_of`` are a holdout.

    Parameters
    ----------
    model : fitted :class:`crmml.clv.CLVModel` (fitted on transactions, so it keeps ``summary_``)
    transactions : DataFrame
        Standard-schema transactions covering the calibration period and the holdout.
    end : timestamp or str
        Last date of the comparison (exclusive).
    n_points : int, default=30

    Returns
    -------
    DataFrame
        Indexed by ``date``: ``actual``, ``expected`` and ``holdout`` (bool).

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.clv import CLVModel
    >>> crm = make_synthetic_crm(n_customers=200, seed=1, with_events=False)
    >>> m = CLVModel(freq="W").fit(crm.transactions, as_of="2024-01-01")
    >>> t = clv_tracking(m, crm.transactions, end="2024-07-01", n_points=5)
    >>> t.columns.tolist(), bool(t["holdout"].iloc[-1])
    (['actual', 'expected', 'holdout'], True)
    """
    end, transactions = _tracking_inputs(model, transactions, end, n_points, "clv_tracking")
    return _tracking(model, transactions, end, n_points)


def _tracking_inputs(model, transactions, end, n_points, owner):
    """The checks of :func:`clv_tracking` (and :func:`clv_report`): ``(end, validated transactions)``."""
    from crmml._utils import check_as_of, check_number
    from crmml.schema import validate_transactions

    check_number(n_points, "n_points", owner, low=2, high=1000)
    end = check_as_of(end, owner, "end")                   # a number is not read as nanoseconds since 1970
    transactions = validate_transactions(transactions)     # pyarrow/tz-aware timestamps, ids by the id rule
    if getattr(model, "summary_", None) is None:
        raise ParameterError(f"{owner} needs a CLVModel fitted with fit(transactions, as_of) (it keeps the "
                             "training customers in summary_); fit it first.")
    as_of = pd.Timestamp(model.as_of_)
    if end <= as_of:
        raise ParameterError(f"{owner}: end ({end}) must be after the model's as_of ({as_of}).")
    return end, transactions


def _tracking(model, transactions, end, n_points):
    """:func:`clv_tracking` on checked inputs (:func:`_tracking_inputs`)."""
    from crmml._time import shift_days
    from crmml.clv import summarize
    from crmml.clv._summary import _UNIT_DAYS

    as_of = pd.Timestamp(model.as_of_)
    unit = pd.Timedelta(days=_UNIT_DAYS[model.freq])
    T = model.summary_["T"].to_numpy(float)
    ages, counts = np.unique(np.round(T, 2), return_counts=True)
    first = as_of - ages.max() * unit
    days = np.unique(np.linspace(0, (end - first) / pd.Timedelta(days=1), n_points).round())
    dates = [shift_days(first.normalize(), d) for d in days]     # whole days (held at pandas' last instant)
    u = np.array([(d - as_of) / unit for d in dates])
    age = ages[:, None] + u[None, :]
    e = np.zeros_like(age)
    alive = age > 0
    e[alive] = model.purchase_model_.expected_purchases(age[alive])
    expected = counts @ e
    cohort = transactions[transactions["customer_id"].isin(model.summary_.index)]
    actual = [summarize(cohort, d, freq=model.freq, occasion=model.occasion)["frequency"].sum()
              if d > cohort["timestamp"].min() else 0 for d in dates]
    out = pd.DataFrame({"actual": np.asarray(actual, float), "expected": expected, "holdout": u > 0},
                       index=pd.DatetimeIndex(dates, name="date"))
    out.attrs["as_of"] = as_of
    return out


def plot_clv_tracking(tracking: pd.DataFrame, *, ax=None):
    """Actual and expected cumulative repeat purchases, the start of the holdout marked.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"actual": [0, 5, 9], "expected": [0, 4.8, 9.5], "holdout": [False, False, True]},
    ...                  index=pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    >>> [line.get_gid() for line in plot_clv_tracking(t).get_lines()]
    ['actual', 'expected', 'reference']
    """
    ax = axes_or_new(ax, (7.5, 4.0))
    ax.plot(tracking.index, tracking["actual"], lw=2, color="k", gid="actual", label="actual")
    ax.plot(tracking.index, tracking["expected"], lw=2, ls="--", color="#1f77b4", gid="expected",
            label="expected (model)")
    if tracking["holdout"].any():
        start = tracking.attrs.get("as_of", tracking.index[tracking["holdout"].to_numpy().argmax()])
        ax.axvline(start, color="grey", lw=1, ls=":", gid="reference", label="holdout starts (as_of)")
    ax.set(xlabel="date", ylabel="cumulative repeat purchases", title="Tracking: cumulative repeat purchases")
    ax.legend(loc="upper left")
    ax.figure.autofmt_xdate() if hasattr(ax.figure, "autofmt_xdate") else None
    return literal_text(ax)


def clv_parameters(model) -> pd.DataFrame:
    """Every fitted parameter of a :class:`crmml.clv.CLVModel` with its standard error and 95% interval.

    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.clv import CLVModel
    >>> crm = make_synthetic_crm(n_customers=200, seed=1, with_events=False)
    >>> clv_parameters(CLVModel().fit(crm.transactions, as_of="2024-01-01")).columns.tolist()
    ['coef', 'se', 'lower_95', 'upper_95']
    """
    parts = {type(model.purchase_model_).__name__: model.purchase_model_.summary_}
    if getattr(model, "spend_model_", None) is not None:
        parts[type(model.spend_model_).__name__] = model.spend_model_.summary_
    return pd.concat(parts, names=["model", "param"])


def clv_report(path, model, transactions: pd.DataFrame, *, end=None, title: str = "Customer lifetime value",
               subtitle: str | None = None, n_points: int = 30, figures=None, tables=None, notes=None):
    """A CLV report: parameters with standard errors and intervals and, with ``end`` (a holdout after the
    model's ``as_of``), the tracking plot and predicted against actual holdout purchases by decile.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.clv import CLVModel
    >>> crm = make_synthetic_crm(n_customers=200, seed=1, with_events=False)
    >>> m = CLVModel(freq="W").fit(crm.transactions, as_of="2024-01-01")
    >>> out = clv_report(pathlib.Path(tempfile.mkdtemp()) / "c.html", m, crm.transactions, end="2024-07-01")
    >>> "lower_95" in out.read_text()
    True
    """
    from crmml.clv import summarize
    from crmml.clv._summary import _UNIT_DAYS
    from crmml.evaluation._metrics import clv_decile_table

    sections = [("Parameters", [("Fitted parameters (95% intervals on the log scale, mapped back)",
                                 clv_parameters(model))])]
    if end is not None:
        end, transactions = _tracking_inputs(model, transactions, end, n_points, "clv_report")
        track = _tracking(model, transactions, end, n_points)   # validated once for the tracking and the cohort
        as_of = pd.Timestamp(model.as_of_)
        horizon = (pd.Timestamp(end) - as_of) / pd.Timedelta(days=_UNIT_DAYS[model.freq])
        pred = model.purchase_model_.conditional_expected_purchases(model.summary_, horizon)
        ids = model.summary_.index
        cohort = transactions[transactions["customer_id"].isin(ids)]
        after = summarize(cohort, end, freq=model.freq, occasion=model.occasion)["frequency"].reindex(ids)
        actual = after.fillna(0).to_numpy(float) - model.summary_["frequency"].to_numpy(float)
        sections.insert(0, ("Tracking", [("Actual and expected cumulative repeat purchases", plot_clv_tracking(track)),
                                         ("Tracking (last rows)", track.tail(8)),
                                         ("Holdout purchases by decile of prediction",
                                          clv_decile_table(pred.to_numpy(), actual))]))
    summary = {"customers": len(model.summary_) if getattr(model, "summary_", None) is not None else "n/a",
               "as_of": model.as_of_, "holdout end": str(pd.Timestamp(end)) if end is not None else "none"}
    return report(path, title=title, subtitle=subtitle, data_summary=summary, sections=sections, figures=figures,
                  tables=tables, notes=notes)
