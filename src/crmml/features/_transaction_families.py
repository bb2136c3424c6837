"""Transaction feature families: RFM, trends, gaps, baskets, diversity, returns, channels, lifetime.

Definitions used throughout:

- a *purchase line* is a transaction row with ``amount >= 0`` or a missing
  amount; a *return line* has ``amount < 0``;
- a *purchase occasion* is the set of one customer's purchase lines at one
  timestamp (its value is the sum of their amounts);
- a window ``{w}d`` covers ``[as_of - w days, as_of)``; the *previous* window
  covers ``[as_of - 2w days, as_of - w days)``;
- counts and sums are 0 when there is nothing in the window; means, rates,
  maxima, gaps and recencies are NaN when they are undefined.
"""

from __future__ import annotations

import numpy as np

from crmml.features._engine import DAY_NS, safe_div, trend
from crmml.features._registry import REGISTRY, FeatureTemplate as T


def _per_window(ctx, fn):
    out = {}
    for w in ctx.windows:
        out.update(fn(int(w), f"{int(w)}d"))
    return out


@REGISTRY.family("rfm", requires="transactions", description="recency, frequency and monetary value per window",
                 templates=[
                     T("purchase", "count", "number of purchase occasions in {window}"),
                     T("amount", "sum", "net amount (purchases minus returns) in {window}"),
                     T("purchase_amount", "mean", "mean value of a purchase occasion in {window}"),
                     T("purchase_amount", "max", "largest purchase occasion value in {window}"),
                     T("purchase_amount", "min", "smallest purchase occasion value in {window}"),
                     T("line", "count", "number of purchase lines in {window}"),
                     T("quantity", "sum", "units bought in {window}"),
                     T("active_days", "count", "distinct calendar days with a purchase in {window}"),
                     T("weekend_purchase", "share", "share of purchase occasions on Saturday or Sunday "
                                                    "in {window}"),
                 ])
def _rfm(d, ctx):
    occ, lines, days = d.occ, d.lines, d.days

    def one(w, lab):
        s, e = occ.bounds(w)
        n = occ.count(w)
        gross = occ.sum("value", d.occ_value, w)
        return {
            f"purchase_count_{lab}": n,
            f"amount_sum_{lab}": gross - d.ret.sum("amount", d.ret_amount, w),
            f"purchase_amount_mean_{lab}": safe_div(gross, n),
            f"purchase_amount_max_{lab}": occ.reduce(np.maximum, d.occ_value, s, e),
            f"purchase_amount_min_{lab}": occ.reduce(np.minimum, d.occ_value, s, e),
            f"line_count_{lab}": lines.count(w),
            f"quantity_sum_{lab}": lines.sum("qty", d.line_qty, w) if d.has_qty else np.full(d.n, np.nan),
            f"active_days_count_{lab}": days.count(w),
            f"weekend_purchase_share_{lab}": safe_div(occ.sum("weekend", d.occ_weekend, w), n),
        }
    return _per_window(ctx, one)


@REGISTRY.family("trend", requires="transactions",
                 description="each window against the window of equal length before it",
                 templates=[
                     T("purchase_count", "trend", "(purchases in {window} - purchases in the equally long "
                                                  "period before) / their sum, in [-1, 1]"),
                     T("amount_sum", "trend", "(gross amount in {window} - gross amount in the equally long "
                                              "period before) / their sum"),
                     T("active_days", "trend", "(active days in {window} - active days in the equally long "
                                               "period before) / their sum"),
                 ])
def _trend(d, ctx):
    occ, days = d.occ, d.days

    def one(w, lab):
        return {
            f"purchase_count_trend_{lab}": trend(occ.count(w), occ.count(2 * w, until=w)),
            f"amount_sum_trend_{lab}": trend(occ.sum("value", d.occ_value, w),
                                             occ.sum("value", d.occ_value, 2 * w, until=w)),
            f"active_days_trend_{lab}": trend(days.count(w), days.count(2 * w, until=w)),
        }
    return _per_window(ctx, one)


def _gap_stats(d, w):
    """Mean, std and max of the gaps (days) between consecutive purchase occasions in a window."""
    occ = d.occ
    s, e = occ.bounds(w)
    gs = np.minimum(s + 1, e)                      # the first occasion in the window has no gap inside it
    k = (e - gs).astype(np.float64)
    # the gaps telescope: their sum is last minus first occasion time in the window (exact, per customer)
    span = np.zeros(d.n)
    has = k > 0
    span[has] = (occ.t_ns[e[has] - 1] - occ.t_ns[s[has]]) / DAY_NS
    mean = safe_div(span, k)
    std = occ.std("gap", d.gap0, gs, e, ddof=0)
    return mean, np.where(k >= 2, std, np.nan), occ.reduce(np.maximum, d.gap0, gs, e)


@REGISTRY.family("gaps", requires="transactions", description="inter-purchase gap statistics",
                 templates=[
                     T("gap_days", "mean", "mean days between consecutive purchase occasions in {window}"),
                     T("gap_days", "std", "standard deviation of the days between purchase occasions in {window}"),
                     T("gap_days", "max", "longest gap in days between purchase occasions in {window}"),
                     T("gap_days", "mean", "mean days between consecutive purchase occasions", per="all"),
                     T("gap_days", "std", "standard deviation of the days between purchase occasions", per="all"),
                     T("gap_days", "last", "days between the last two purchase occasions", per="all"),
                     T("gap_last_over_mean", "ratio", "last gap divided by the mean gap", per="all"),
                     T("recency_over_gap_mean", "ratio", "days since the last purchase divided by the mean "
                                                         "gap (above 1: overdue)", per="all"),
                 ])
def _gaps(d, ctx):
    out = {}
    for w in ctx.windows:
        m, sd, mx = _gap_stats(d, int(w))
        out.update({f"gap_days_mean_{w}d": m, f"gap_days_std_{w}d": sd, f"gap_days_max_{w}d": mx})
    m, sd, _ = _gap_stats(d, None)
    last_gap = np.where(d.occ.size >= 2, d.occ.last(d.gap0), np.nan)
    recency = d.occ.last(d.occ.age_days)
    out.update({"gap_days_mean_all": m, "gap_days_std_all": sd, "gap_days_last_all": last_gap,
                "gap_last_over_mean_ratio_all": safe_div(last_gap, m),
                "recency_over_gap_mean_ratio_all": safe_div(recency, m)})
    return out


@REGISTRY.family("basket", requires="transactions", description="basket size and value statistics",
                 templates=[
                     T("basket_lines", "mean", "mean number of lines per purchase occasion in {window}"),
                     T("basket_lines", "max", "most lines in one purchase occasion in {window}"),
                     T("basket_quantity", "mean", "mean units per purchase occasion in {window}"),
                     T("purchase_amount", "std", "standard deviation of purchase occasion values in {window}"),
                 ])
def _basket(d, ctx):
    occ = d.occ

    def one(w, lab):
        s, e = occ.bounds(w)
        n = occ.count(w)
        return {
            f"basket_lines_mean_{lab}": safe_div(occ.sum("nlines", d.occ_lines, w), n),
            f"basket_lines_max_{lab}": occ.reduce(np.maximum, d.occ_lines, s, e),
            f"basket_quantity_mean_{lab}": (safe_div(d.lines.sum("qty", d.line_qty, w), n)
                                            if d.has_qty else np.full(d.n, np.nan)),
            f"purchase_amount_std_{lab}": occ.std("value", d.occ_value, s, e, ddof=1),
        }
    return _per_window(ctx, one)


@REGISTRY.family("diversity", requires="transactions", description="product and category diversity",
                 templates=[
                     T("product", "nunique", "distinct products bought in {window}"),
                     T("category", "nunique", "distinct categories bought in {window}"),
                     T("product_repeat", "rate", "share of purchase lines repeating a product bought earlier "
                                                 "in {window} (1 - distinct products / lines)"),
                     T("product", "nunique", "distinct products bought", per="all"),
                     T("category", "nunique", "distinct categories bought", per="all"),
                 ])
def _diversity(d, ctx):
    nan = np.full(d.n, np.nan)

    def one(w, lab):
        npro = d.prod_pairs.count(w) if d.prod_pairs is not None else nan
        return {
            f"product_nunique_{lab}": npro,
            f"category_nunique_{lab}": d.cat_pairs.count(w) if d.cat_pairs is not None else nan,
            f"product_repeat_rate_{lab}": 1.0 - safe_div(npro, d.lines.count(w)),
        }
    out = _per_window(ctx, one)
    out["product_nunique_all"] = d.prod_pairs.count(None) if d.prod_pairs is not None else nan
    out["category_nunique_all"] = d.cat_pairs.count(None) if d.cat_pairs is not None else nan
    return out


@REGISTRY.family("returns", requires="transactions", description="returns and refunds (negative amounts)",
                 templates=[
                     T("return", "count", "number of return lines in {window}"),
                     T("return_amount", "sum", "amount returned (positive) in {window}"),
                     T("return_line", "rate", "return lines per purchase line in {window}"),
                     T("return_amount", "rate", "amount returned over gross amount bought in {window}"),
                     T("return", "count", "number of return lines", per="all"),
                     T("return_amount", "rate", "amount returned over gross amount bought", per="all"),
                     T("return", "recency", "days since the last return", per="all"),
                 ])
def _returns(d, ctx):
    ret = d.ret

    def one(w, lab):
        ra = ret.sum("amount", d.ret_amount, w)
        return {
            f"return_count_{lab}": ret.count(w),
            f"return_amount_sum_{lab}": ra,
            f"return_line_rate_{lab}": safe_div(ret.count(w), d.lines.count(w)),
            f"return_amount_rate_{lab}": safe_div(ra, d.occ.sum("value", d.occ_value, w)),
        }
    out = _per_window(ctx, one)
    out["return_count_all"] = ret.count(None)
    out["return_amount_rate_all"] = safe_div(ret.sum("amount", d.ret_amount),
                                             d.occ.sum("value", d.occ_value))
    out["return_recency_all"] = ret.last(ret.age_days)
    return out


@REGISTRY.family("channel", requires="transactions", description="channel mix of purchase occasions",
                 templates=[
                     T("channel", "nunique", "distinct channels used for purchases in {window}"),
                     T("channel_{value}", "share", "share of purchase occasions in channel '{value}' "
                                                   "in {window}", over="channels"),
                 ])
def _channel(d, ctx):
    occ = d.occ
    out = {}
    for w in ctx.windows:
        w = int(w)
        out[f"channel_nunique_{w}d"] = (d.chan_pairs.count(w) if d.chan_pairs is not None
                                        else np.full(d.n, np.nan))
    for j, name in enumerate(d.channel_slugs):
        ind = (d.occ_channel == j).astype(np.float64)
        for w in ctx.windows:
            w = int(w)
            out[f"channel_{name}_share_{w}d"] = safe_div(occ.sum(f"chan{j}", ind, w), occ.count(w))
    return out


@REGISTRY.family("lifetime", requires="transactions", description="whole-history recency, tenure and value",
                 templates=[
                     T("purchase", "recency", "days since the last purchase occasion", per="all"),
                     T("purchase", "tenure", "days since the first purchase occasion", per="all"),
                     T("purchase", "count", "number of purchase occasions", per="all"),
                     T("amount", "sum", "net amount (purchases minus returns)", per="all"),
                     T("purchase_amount", "mean", "mean value of a purchase occasion", per="all"),
                     T("purchase_rate", "monthly", "purchase occasions per 30 days of tenure", per="all"),
                     T("active_days", "count", "distinct calendar days with a purchase", per="all"),
                 ])
def _lifetime(d, ctx):
    occ = d.occ
    n = occ.count(None)
    gross = occ.sum("value", d.occ_value)
    tenure = occ.first(occ.age_days)
    return {
        "purchase_recency_all": occ.last(occ.age_days),
        "purchase_tenure_all": tenure,
        "purchase_count_all": n,
        "amount_sum_all": gross - d.ret.sum("amount", d.ret_amount),
        "purchase_amount_mean_all": safe_div(gross, n),
        "purchase_rate_monthly_all": safe_div(30.0 * n, np.maximum(tenure, 1.0)),
        "active_days_count_all": d.days.count(None),
    }
