"""The report of a binary probability score (churn risk, lead conversion).

Metrics with bootstrap intervals beside a baseline's, every curve of the model and the
baseline on one plot, calibration bins with counts, a threshold / confusion / cost view, the
decile table, top drivers and the backtest per cutoff, written through :func:`report`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from crmml._utils import check_number
from crmml.evaluation._metrics import classification_metrics, decile_table
from crmml.evaluation._report import _items, report, top_drivers

__all__ = ["classification_figures", "classification_report"]


def classification_figures(y_true, y_prob, *, baseline_prob=None, baseline_name: str = "baseline",
                           shap_values=None, X=None, feature_names=None, shap_units: str | None = "log-odds",
                           cost_per_contact: float | None = None, value_per_event: float | None = None) -> dict:
    """The standard figures of a binary probability score, keyed by caption.

    ROC, precision-recall, calibration (bin counts and 95% intervals) and cumulative gains,
    each with the baseline's curve when ``baseline_prob`` is given; the score distribution by
    class; the net value by targeting depth when both costs are given; and, when
    ``shap_values`` is given, the SHAP summary (beeswarm when ``X`` is given, else bar). The
    decile table is a table of the report, not a figure.

    >>> figs = classification_figures([0, 1, 0, 1, 1, 0], [.2, .7, .4, .9, .6, .1], baseline_prob=[.5] * 6)
    >>> list(figs)
    ['ROC curve', 'Precision-recall curve', 'Calibration curve', 'Cumulative gains', 'Score distribution by class']
    """
    from crmml.evaluation._plots import plot_score_distribution, plot_shap_summary
    from crmml.evaluation._report_plots import (
        compare_calibration,
        compare_gains,
        compare_precision_recall,
        compare_roc,
    )
    from crmml.evaluation._thresholds import plot_net_value

    y = np.asarray(y_true)
    scores = {"model": y_prob} if baseline_prob is None else {"model": y_prob, baseline_name: baseline_prob}
    figs = {}
    if len(np.unique(y)) == 2:     # curves that need both classes
        figs = {"ROC curve": compare_roc(y, scores), "Precision-recall curve": compare_precision_recall(y, scores)}
    figs["Calibration curve"] = compare_calibration(y, scores, n_bins=_n_bins(y_prob))
    if y.sum() > 0:
        figs["Cumulative gains"] = compare_gains(y, scores)
    figs["Score distribution by class"] = plot_score_distribution(y, y_prob)
    if cost_per_contact is not None or value_per_event is not None:
        figs["Net value by targeting depth"] = plot_net_value(y, scores, cost_per_contact=cost_per_contact,
                                                              value_per_event=value_per_event)
    if shap_values is not None:
        kind = "beeswarm" if X is not None else "bar"
        figs["SHAP summary (top drivers)"] = plot_shap_summary(shap_values, X, feature_names=feature_names,
                                                               kind=kind, units=shap_units)
    return figs


def _n_bins(y_prob) -> int:
    n = len(np.asarray(y_prob))
    return 10 if n >= 10 else max(1, n // 2)


def classification_report(path, y_true, y_prob, *, title: str, subtitle: str | None = None,
                          baseline_prob=None, baseline_name: str = "baseline", data_summary: dict | None = None,
                          shap_values=None, X=None, feature_names=None, shap_units: str | None = "log-odds",
                          backtest: pd.DataFrame | None = None, extra_figures=None, extra_tables=None,
                          notes=None, n_boot: int = 200, random_state=0, cost_per_contact: float | None = None,
                          value_per_event: float | None = None, extra_sections=None) -> Path:
    """A complete report for a binary probability score (churn risk, lead conversion).

    Metrics (:func:`classification_metrics`) with bootstrap intervals beside the baseline's
    and the interval of each difference (coloured only when it excludes zero); ROC, PR,
    calibration and gains curves of the model and the baseline; calibration bins with their
    counts; confusion counts, precision, recall (and net value) at several targeting depths;
    the decile table, the top drivers (from SHAP values) and, for backtests, the per-cutoff table.

    Parameters
    ----------
    path : str or Path
    y_true, y_prob : array-like
        Outcomes (0/1) and predicted probabilities on held-out data.
    baseline_prob : array-like, optional
        A simple baseline's scores on the same rows (e.g. recency only).
    shap_values, X, feature_names : optional
        SHAP values of the held-out rows (and their features) for the top drivers.
    backtest : DataFrame, optional
        One row per cutoff.
    n_boot : int, default=200
        Bootstrap resamples of the rows for the intervals (0: no intervals, no colour).
    random_state : int, default=0
        Seed of the bootstrap.
    cost_per_contact, value_per_event : float, optional
        Give both for the net value column and plot (see :func:`threshold_table`).
    extra_sections : list of (heading, items), optional
        Passed to :func:`report` after the standard sections.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> rng = np.random.default_rng(0); p = rng.random(300); y = (rng.random(300) < p).astype(int)
    >>> out = classification_report(pathlib.Path(tempfile.mkdtemp()) / "c.html", y, p, baseline_prob=p ** 2,
    ...                             title="Churn", n_boot=20)  # doctest: +SKIP
    >>> out.read_text().count("data:image/png;base64,")  # doctest: +SKIP
    5
    """
    from crmml.evaluation._bootstrap import bootstrap_metrics
    from crmml.evaluation._report_plots import calibration_bins_with_interval
    from crmml.evaluation._thresholds import threshold_table

    check_number(n_boot, "n_boot", "classification_report", low=0, high=10_000)
    metrics = classification_metrics(y_true, y_prob)
    base = classification_metrics(y_true, baseline_prob) if baseline_prob is not None else None
    intervals = None
    if n_boot:
        intervals = bootstrap_metrics(y_true, y_prob, baseline_prob, n_boot=n_boot, random_state=random_state)
        notes = [*(notes or []), f"Intervals: 95% bootstrap over rows ({n_boot} resamples, model and baseline "
                                 "on the same resamples); a difference is coloured only when its interval "
                                 "excludes zero."]
    if len(np.unique(np.asarray(y_true))) < 2:
        notes = [*(notes or []), "Only one outcome class is present: ROC-AUC, PR-AUC, Gini, KS and the "
                                 "ROC and precision-recall curves are undefined (n/a)."]
    figs = classification_figures(y_true, y_prob, baseline_prob=baseline_prob, baseline_name=baseline_name,
                                  shap_values=shap_values, X=X, feature_names=feature_names, shap_units=shap_units,
                                  cost_per_contact=cost_per_contact, value_per_event=value_per_event)
    nb = _n_bins(y_prob)
    sections = [("Calibration", [("Calibration curve", figs.pop("Calibration curve")),
                                 ("Calibration bins (model; observed rate with a 95% Wilson interval)",
                                  calibration_bins_with_interval(y_true, y_prob, nb))])]
    thresholds = [("Acting on the top share of customers (model)",
                   threshold_table(y_true, y_prob, cost_per_contact=cost_per_contact,
                                   value_per_event=value_per_event))]
    if baseline_prob is not None:
        thresholds.append((f"Acting on the top share of customers ({baseline_name})",
                           threshold_table(y_true, baseline_prob, cost_per_contact=cost_per_contact,
                                           value_per_event=value_per_event)))
    if "Net value by targeting depth" in figs:
        thresholds.append(("Net value by targeting depth", figs.pop("Net value by targeting depth")))
    sections.append(("Threshold, confusion and cost", thresholds))
    sections.extend(_items(extra_sections))
    figs.update(dict(_items(extra_figures)))
    tables = {"Decile table": decile_table(y_true, y_prob, n_bins=nb)}
    if shap_values is not None:
        caption = "Top drivers (mean |SHAP|" + (f", {shap_units})" if shap_units else ")")
        tables[caption] = top_drivers(shap_values, feature_names if feature_names is not None else
                                      (list(X.columns) if isinstance(X, pd.DataFrame) else None))
    if backtest is not None:
        tables["Backtest per cutoff"] = backtest
    tables.update(dict(_items(extra_tables)))
    return report(path, title=title, subtitle=subtitle, data_summary=data_summary, metrics=metrics,
                  baseline_metrics=base, baseline_name=baseline_name, figures=figs, tables=tables, notes=notes,
                  metric_intervals=intervals, sections=sections)
