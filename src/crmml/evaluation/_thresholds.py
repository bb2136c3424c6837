"""Where to cut a score: confusion counts, precision, recall and net value at several targeting depths."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils import check_number
from crmml._utils._plot_text import literal_text
from crmml._utils._plotting import axes_or_new
from crmml.evaluation._metrics import _xy
from crmml.exceptions import ParameterError

__all__ = ["threshold_table", "plot_net_value"]

_SHARES = (0.05, 0.1, 0.2, 0.3, 0.5)


def _check_costs(cost_per_contact, value_per_event, owner):
    if (cost_per_contact is None) != (value_per_event is None):
        raise ParameterError(f"{owner}: give both cost_per_contact and value_per_event (the cost of acting on one "
                             "customer and the value of acting on one who has the event), or neither.")
    if cost_per_contact is not None:
        check_number(cost_per_contact, "cost_per_contact", owner, kind="float", low=0)
        check_number(value_per_event, "value_per_event", owner, kind="float", low=0)


def threshold_table(y_true, y_score, *, shares=_SHARES, cost_per_contact: float | None = None,
                    value_per_event: float | None = None) -> pd.DataFrame:
    """Confusion counts when acting on the top ``share`` of customers by score, for several shares.

    Parameters
    ----------
    y_true, y_score : array-like
        Outcomes (0/1) and scores (higher = more likely).
    shares : sequence of float, default=(0.05, 0.1, 0.2, 0.3, 0.5)
        Shares of customers acted on (the highest scores first), each in (0, 1].
    cost_per_contact, value_per_event : float, optional
        Cost of acting on one customer and value of acting on one who has the event (e.g. the
        margin saved by a retention offer that works). Give both to add ``net_value =
        value_per_event * TP - cost_per_contact * (TP + FP)``.

    Returns
    -------
    DataFrame
        Indexed by ``share``: ``threshold`` (the lowest score acted on), ``contacted``, ``TP``,
        ``FP``, ``FN``, ``TN``, ``precision``, ``recall`` (and ``net_value``).

    Examples
    --------
    >>> t = threshold_table([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0],
    ...                     shares=[0.1, 0.3], cost_per_contact=1, value_per_event=5)
    >>> t[["TP", "FP", "FN", "net_value"]].to_numpy().tolist()
    [[1.0, 0.0, 1.0, 4.0], [2.0, 1.0, 0.0, 7.0]]
    """
    owner = "threshold_table"
    _check_costs(cost_per_contact, value_per_event, owner)
    y, s = _xy(y_true, y_score)
    shares = [check_number(f, "shares", owner, kind="float", low=0, high=1, low_inclusive=False) for f in shares]
    order = np.argsort(-s, kind="mergesort")
    cum = np.cumsum(y[order])
    n, events = len(y), y.sum()
    k = np.array([max(1, int(round(f * n))) for f in shares])
    tp = cum[k - 1]
    fp = k - tp
    out = pd.DataFrame({"threshold": s[order][k - 1], "contacted": k.astype(float), "TP": tp, "FP": fp,
                        "FN": events - tp, "TN": (n - events) - fp, "precision": tp / k,
                        "recall": tp / events if events else np.nan},
                       index=pd.Index(shares, name="share"))
    if cost_per_contact is not None:
        out["net_value"] = value_per_event * tp - cost_per_contact * k
    return out


def plot_net_value(y_true, scores: dict, *, cost_per_contact: float, value_per_event: float, ax=None):
    """Net value of acting on the top share of customers, by share, for each score (model, baseline).

    The best share of each score is marked; the flat line at 0 is acting on no one.

    >>> ax = plot_net_value([1, 0, 1, 0, 0, 0], {"model": [.9, .8, .7, .3, .2, .1]}, cost_per_contact=1,
    ...                     value_per_event=4)
    >>> ax.get_lines()[0].get_gid()
    'model'
    """
    from crmml.evaluation._report_plots import _COLOURS, _reference

    _check_costs(cost_per_contact, value_per_event, "plot_net_value")
    ax = axes_or_new(ax, (5.0, 4.0))
    for (name, sc), colour in zip(scores.items(), _COLOURS):
        y, s = _xy(y_true, sc)
        n = len(y)
        k = np.unique(np.linspace(1, n, min(n, 200)).round().astype(int))
        value = value_per_event * np.cumsum(y[np.argsort(-s, kind="mergesort")])[k - 1] - cost_per_contact * k
        best = int(np.argmax(value))
        ax.plot(k / n, value, lw=2, color=colour, gid=name, label=f"{name} (best: top {k[best] / n:.0%})")
        ax.plot([k[best] / n], [value[best]], marker="o", color=colour)
    _reference(ax, [0, 1], [0, 0], "contact no one")
    ax.set(xlabel="Share of customers contacted (by score)", ylabel="Net value",
           title=f"Net value (cost {cost_per_contact:g} per contact, value {value_per_event:g} per event)",
           xlim=(0, 1))
    ax.legend(loc="best")
    return literal_text(ax)
