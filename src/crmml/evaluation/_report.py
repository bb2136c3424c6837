"""Self-contained HTML reports: one file per model run, images embedded, opens offline.

:func:`report` is the generic writer (title, data summary, metrics beside a
baseline, figures, tables, notes). :func:`summarize_data`,
:func:`classification_figures`, :func:`top_drivers` and
:func:`classification_report` build its inputs for a binary score (churn, lead
scoring); CLV, segmentation and next-best-offer results are fed in as figures
and tables.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
import numbers
from pathlib import Path

import numpy as np
import pandas as pd

from crmml._time import as_timestamp
from crmml._utils._plot_text import figure_of, literal_text
from crmml.exceptions import ParameterError

__all__ = ["report", "summarize_data", "top_drivers", "figure_to_png"]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px;background:#fff}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:19px;margin:32px 0 10px;border-bottom:2px solid #e3e6eb;
padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px;color:#394256}
.sub{color:#5b6475;margin:0 0 12px}.meta{color:#8a93a3;font-size:12px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{border:1px solid #dde1e7;padding:4px 9px;text-align:right}th{background:#f0f2f5}
td:first-child,th:first-child{text-align:left}td.t{text-align:left}
.kv td:first-child{font-weight:600}.ci{color:#5b6475;font-size:12px}
.better{color:#137333;font-weight:600}.worse{color:#b3261e;font-weight:600}
figure{margin:10px 0 20px}figure img{max-width:100%;border:1px solid #eef0f3}
figcaption{font-size:13px;color:#5b6475}.note{background:#fff8e1;border-left:4px solid #f2b600;
padding:8px 12px;font-size:13px}.scroll{overflow-x:auto}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:8px 18px}
.figs .wide{grid-column:1/-1}
"""

# metric name prefixes by direction; a metric matching neither (counts, totals, rates) is not coloured
_HIGHER_IS_BETTER = ("roc_auc", "pr_auc", "gini", "ks", "lift", "capture", "spearman", "pearson", "r2",
                     "precision", "recall", "map", "ndcg", "coverage", "hit_rate", "accuracy", "f1",
                     "top_decile", "silhouette")
_LOWER_IS_BETTER = ("brier", "ece", "log_loss", "mae", "rmse", "mape", "psi", "error")


def _direction(name: str) -> int:
    """+1 when larger is better, -1 when smaller is better, 0 when neither is known.

    >>> _direction("roc_auc"), _direction("mae_value"), _direction("n")
    (1, -1, 0)
    """
    n = name.lower()
    if n.startswith(_LOWER_IS_BETTER):
        return -1
    if n.startswith(_HIGHER_IS_BETTER):
        return 1
    return 0


def _fmt_diff(d: float) -> str:
    if d == 0:
        return "0"
    body = _fmt(abs(d))
    return ("+" if d > 0 else "-") + body


def figure_to_png(fig, dpi: int = 100) -> bytes:
    """PNG bytes of a matplotlib figure (or of the figure of an Axes or of an array of Axes, as crmml's plots return).

    >>> from matplotlib.figure import Figure
    >>> figure_to_png(Figure(figsize=(1, 1)))[:4]
    b'\\x89PNG'
    """
    fig = figure_of(fig)
    buf = io.BytesIO()
    # figures made without a layout engine (e.g. plt.subplots()) often clip their labels: save them tight
    tight = getattr(fig, "get_layout_engine", lambda: None)() is None
    # the text drawn comes from the user's data and model files (segment, column, series names): plain text, never
    # matplotlib's mathtext, so '$10-$50' is drawn as written and '$^$' cannot stop a report
    literal_text(fig)
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    return buf.getvalue()


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, numbers.Integral):
        return f"{int(v):,}"
    if isinstance(v, numbers.Real):
        v = float(v)
        if math.isnan(v):
            return "n/a"
        if math.isinf(v) or (v != 0 and abs(v) < 1e-3) or abs(v) >= 1e15:
            return f"{v:.3g}"
        if v == int(v):
            return f"{int(v):,}"
        if abs(v) >= 100:
            return f"{v:,.1f}"
        return f"{v:.4f}".rstrip("0").rstrip(".") if abs(v) < 1 else f"{v:.3f}".rstrip("0").rstrip(".")
    if isinstance(v, (pd.Timestamp, _dt.datetime)):
        return str(pd.Timestamp(v))
    return str(v)


def _kv_table(d: dict) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}</td></tr>" for k, v in d.items())
    return f'<table class="kv">{rows}</table>'


def _interval_text(lo, hi) -> str:
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    return f' <span class="ci">[{html.escape(_fmt(lo))}, {html.escape(_fmt(hi))}]</span>'


def _diff_class(name, lo, hi) -> str:
    """better / worse only when the interval of the difference excludes zero; no colour without one."""
    sign = _direction(str(name))
    if not sign or lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    if lo > 0 or hi < 0:
        return ' class="better"' if (lo > 0) == (sign > 0) else ' class="worse"'
    return ""


def _num(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)


def _metrics_table(metrics: dict, baseline: dict | None, baseline_name: str,
                   intervals: pd.DataFrame | None = None) -> str:
    """Metrics beside the baseline's; with ``intervals`` (:func:`bootstrap_metrics`) each value gets its
    interval and the difference is coloured when, and only when, its interval excludes zero."""
    ci = intervals if intervals is not None else pd.DataFrame()

    def get(k, col):
        return float(ci.at[k, col]) if k in ci.index and col in ci.columns else None

    if not baseline:
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}"
                       f"{_interval_text(get(k, 'lower'), get(k, 'upper'))}</td></tr>" for k, v in metrics.items())
        return f'<table class="kv">{rows}</table>'
    level = f" ({_fmt(100 * float(ci.attrs['level']))}% interval)" if "level" in ci.attrs else ""
    head = (f"<tr><th>metric</th><th>model</th><th>{html.escape(baseline_name)}</th>"
            f"<th>difference{level}</th></tr>")
    rows = []
    for k, v in metrics.items():
        b = baseline.get(k)
        diff, cls, attrs = "", "", ""
        if _num(v) and _num(b) and k not in ("n",):
            lo, hi = get(k, "difference_lower"), get(k, "difference_upper")
            diff = _fmt_diff(float(v) - float(b)) + _interval_text(lo, hi)
            cls = _diff_class(k, lo, hi)
            if lo is not None and np.isfinite(lo) and np.isfinite(hi):
                attrs = f' data-lower="{lo!r}" data-upper="{hi!r}"'
        rows.append(f'<tr data-metric="{html.escape(str(k))}"><td>{html.escape(str(k))}</td>'
                    f"<td>{html.escape(_fmt(v))}{_interval_text(get(k, 'lower'), get(k, 'upper'))}</td>"
                    f"<td>{html.escape(_fmt(b))}{_interval_text(get(k, 'baseline_lower'), get(k, 'baseline_upper'))}"
                    f"</td><td{cls}{attrs}>{diff}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _is_id(name) -> bool:
    n = str(name)
    return n.lower() == "id" or n.lower().endswith("_id") or n.endswith(("ID", "Id"))


def _cell(col, v) -> str:
    text = str(v) if _is_id(col) and v is not None else _fmt(v)
    cls = ' class="t"' if not isinstance(v, (numbers.Number, np.number)) or isinstance(v, bool) else ""
    return f"<td{cls}>{html.escape(text)}</td>"


def _df_html(df: pd.DataFrame, max_rows: int) -> str:
    """An HTML table: numbers formatted and right-aligned, text left-aligned, ids shown as they are."""
    shown = df.head(max_rows)
    if isinstance(shown.columns, pd.MultiIndex):
        shown = shown.copy()
        shown.columns = [" ".join(str(p) for p in c if str(p)) for c in shown.columns]
    show_index = not isinstance(df.index, pd.RangeIndex)
    names = [n if n is not None else "" for n in shown.index.names] if show_index else []
    head = "".join(f"<th>{html.escape(str(n))}</th>" for n in names)
    head += "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for idx, row in zip(shown.index, shown.itertuples(index=False, name=None)):
        keys = idx if isinstance(idx, tuple) else (idx,)
        cells = "".join(_cell(n, k) for n, k in zip(names, keys)) if show_index else ""
        cells += "".join(_cell(c, v) for c, v in zip(shown.columns, row))
        rows.append(f"<tr>{cells}</tr>")
    body = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    more = f'<p class="meta">showing {max_rows:,} of {len(df):,} rows</p>' if len(df) > max_rows else ""
    return f'<div class="scroll">{body}</div>{more}'


def _items(x):
    if x is None:
        return []
    if isinstance(x, dict):
        return list(x.items())
    return list(x)


def _table_html(df, max_rows: int) -> str:
    return _df_html(df.to_frame() if isinstance(df, pd.Series) else df, max_rows)


def _text_width(df) -> int:
    """Characters across a table's widest rows (header or cells), to lay it out beside a plot or alone."""
    df = df.to_frame() if isinstance(df, pd.Series) else df
    head = df.head(50).reset_index()
    return sum(max([len(str(c)), *(len(_fmt(v)) for v in head[c])]) + 2 for c in head.columns)


def _figure_html(caption, fig, dpi: int) -> str:
    """An embedded PNG with, beside it, the drawn series as JSON (``<script class="plot-data">``)."""
    from crmml.evaluation._report_plots import figure_data

    if isinstance(fig, (np.ndarray, list, tuple)) or (not hasattr(fig, "savefig") and hasattr(fig, "figure")):
        fig = figure_of(fig)   # an Axes, an array of Axes (or a display object)
    if not hasattr(fig, "savefig"):
        raise ParameterError(f"report: the item {caption!r} must be a matplotlib Figure or Axes (or, in sections, a "
                             f"DataFrame); got {type(fig).__name__}.")
    b64 = base64.b64encode(figure_to_png(fig, dpi=dpi)).decode("ascii")
    wide = ' class="wide"' if fig.get_figwidth() > 7 else ""
    data = json.dumps(figure_data(fig), separators=(",", ":"))
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # inert in <script>
    return (f'<figure{wide}><img alt="{html.escape(str(caption))}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{html.escape(str(caption))}</figcaption>"
            f'<script type="application/json" class="plot-data">{data}</script></figure>')


def report(path, *, title: str, subtitle: str | None = None, data_summary: dict | None = None,
           metrics: dict | None = None, baseline_metrics: dict | None = None, baseline_name: str = "baseline",
           figures=None, tables=None, notes=None, max_table_rows: int = 50, dpi: int = 100,
           metric_intervals: pd.DataFrame | None = None, sections=None) -> Path:
    """Write one self-contained HTML report (PNG images embedded as base64; no external files).

    Parameters
    ----------
    path : str or Path
        The ``.html`` file to write (parent folders are created).
    title : str
    subtitle : str, optional
        One line under the title (e.g. the model and its horizon).
    data_summary : dict, optional
        Shown as a key/value table, e.g. from :func:`summarize_data`.
    metrics : dict, optional
        Metric name to value.
    baseline_metrics : dict, optional
        The same metrics for a baseline, shown beside ``metrics`` with the
        difference. The difference is coloured (green better, red worse) only when
        ``metric_intervals`` gives it an interval that excludes zero.
    baseline_name : str, default="baseline"
        Column header of the baseline (e.g. "recency only").
    figures : dict or list of (caption, Figure, Axes or array of Axes), optional
        matplotlib figures (or axes, whose figure is used, as crmml's plots return), embedded as PNG.
    tables : dict or list of (caption, DataFrame), optional
        Tables (decile table, top drivers, backtest per cutoff, ...).
    notes : list of str, optional
        Caveats shown in a highlighted box.
    metric_intervals : DataFrame, optional
        Intervals by metric, as returned by :func:`crmml.evaluation.bootstrap_metrics`
        (``lower``/``upper``, ``baseline_lower``/``baseline_upper``,
        ``difference_lower``/``difference_upper``).
    sections : dict or list of (heading, list of (caption, Figure, Axes or DataFrame)), optional
        Titled sections after the metrics whose items are laid out side by side (a table
        beside the plot it summarises).
    max_table_rows : int, default=50
    dpi : int, default=100

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = report(pathlib.Path(tempfile.mkdtemp()) / "r.html", title="Demo",
    ...              metrics={"roc_auc": 0.81}, baseline_metrics={"roc_auc": 0.7})
    >>> "roc_auc" in out.read_text()
    True
    """
    path = Path(path)
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if subtitle:
        parts.append(f'<p class="sub">{html.escape(subtitle)}</p>')
    from crmml import __version__

    stamp = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f'<p class="meta">crmml {__version__} &middot; generated {stamp}</p>')
    if notes:
        parts.append("".join(f'<p class="note">{html.escape(str(n))}</p>' for n in notes))
    if data_summary:
        parts.append("<h2>Data</h2>" + _kv_table(data_summary))
    if metrics:
        parts.append("<h2>Metrics</h2>" + _metrics_table(metrics, baseline_metrics, baseline_name, metric_intervals))
    for heading, items in _items(sections):
        parts.append(f'<h2>{html.escape(str(heading))}</h2><div class="figs">')
        for caption, obj in _items(items):
            if isinstance(obj, (pd.DataFrame, pd.Series)):     # a wide table gets the whole row
                wide = ' class="wide"' if _text_width(obj) > 60 else ""
                parts.append(f'<div{wide}><h3>{html.escape(str(caption))}</h3>'
                             f"{_table_html(obj, max_table_rows)}</div>")
            else:
                parts.append(_figure_html(caption, obj, dpi))
        parts.append("</div>")
    figs = _items(figures)
    if figs:
        parts.append('<h2>Plots</h2><div class="figs">')
        parts.extend(_figure_html(caption, fig, dpi) for caption, fig in figs)
        parts.append("</div>")
    tabs = _items(tables)
    if tabs:
        parts.append("<h2>Tables</h2>")
        for caption, df in tabs:
            parts.append(f"<h3>{html.escape(str(caption))}</h3>{_table_html(df, max_table_rows)}")
    doc = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
           f"<body><main>{''.join(parts)}</main></body></html>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc, encoding="utf-8")
    return path


def summarize_data(df: pd.DataFrame, *, key: str = "customer_id", time: str | None = "timestamp",
                   as_of=None, label: str | None = None) -> dict:
    """The data summary of a report: rows, distinct keys, date range, ``as_of`` and event rate.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "timestamp": pd.to_datetime(
    ...     ["2024-01-02", "2024-02-01", "2024-01-05"]), "amount": [1.0, 2.0, 3.0]})
    >>> summarize_data(tx, as_of="2024-03-01")["customers"]
    2
    """
    out: dict = {"rows": int(len(df))}
    if key in df.columns:
        out["customers" if key == "customer_id" else f"distinct {key}"] = int(df[key].nunique())
    elif df.index.name == key:
        out["customers" if key == "customer_id" else f"distinct {key}"] = int(df.index.nunique())
    if time and time in df.columns and len(df):
        out["first date"] = str(pd.Timestamp(df[time].min()).date())
        out["last date"] = str(pd.Timestamp(df[time].max()).date())
    if as_of is not None:
        out["as_of"] = str(as_timestamp(as_of, owner="summarize_data"))
    if label and label in df.columns:
        out[f"{label} rate"] = float(pd.to_numeric(df[label]).mean())
    return out


def top_drivers(shap_values, feature_names=None, n: int = 15) -> pd.DataFrame:
    """Features ranked by mean absolute SHAP value, with the mean signed SHAP value (direction).

    Returns a DataFrame indexed by ``feature`` with ``mean_abs_shap``,
    ``mean_shap`` and ``share`` (of the total mean absolute SHAP value).

    >>> import numpy as np
    >>> top_drivers(np.array([[1.0, -0.2], [-0.5, 0.1]]), ["a", "b"]).index.tolist()
    ['a', 'b']
    """
    from crmml.evaluation._plots import _shap_inputs

    values, _, names = _shap_inputs(shap_values, None, feature_names)
    imp = np.abs(values).mean(axis=0)
    out = pd.DataFrame({"mean_abs_shap": imp, "mean_shap": values.mean(axis=0),
                        "share": imp / imp.sum() if imp.sum() else np.nan},
                       index=pd.Index(names, name="feature"))
    return out.sort_values("mean_abs_shap", ascending=False, kind="mergesort").head(n)
