"""Event and customer-attribute feature families."""

from __future__ import annotations

import numpy as np

from crmml.features._engine import trend
from crmml.features._registry import REGISTRY, FeatureTemplate as T


@REGISTRY.family("events", requires="events", description="engagement events per type",
                 templates=[
                     T("event", "count", "number of events of any type in {window}"),
                     T("event_count", "trend", "(events in {window} - events in the equally long period "
                                               "before) / their sum"),
                     T("event_{value}", "count", "number of '{value}' events in {window}", over="event_types"),
                     T("event_{value}", "recency", "days since the last '{value}' event", per="all",
                       over="event_types"),
                     T("event_{value}", "count", "number of '{value}' events", per="all", over="event_types"),
                 ])
def _events(d, ctx):
    out = {}
    tot = {int(w): np.zeros(d.n) for w in ctx.windows}
    prev = {int(w): np.zeros(d.n) for w in ctx.windows}
    for name, lev in zip(d.event_slugs, d.event_levels):
        for w in ctx.windows:
            w = int(w)
            c = lev.count(w)
            out[f"event_{name}_count_{w}d"] = c
            tot[w] += c
            prev[w] += lev.count(2 * w, until=w)
        out[f"event_{name}_recency_all"] = lev.last(lev.age_days)
        out[f"event_{name}_count_all"] = lev.count(None)
    for w in ctx.windows:
        w = int(w)
        out[f"event_count_{w}d"] = tot[w]
        out[f"event_count_trend_{w}d"] = trend(tot[w], prev[w])
    return out


@REGISTRY.family("attributes", requires="customers", description="customer attributes from the customers frame",
                 templates=[
                     T("signup", "tenure", "days since signup_date (NaN if unknown)", per="all"),
                     T("attr_{value}", "", "customer attribute '{value}', passed through (numeric as "
                                           "float, others unchanged)", per="all", over="attributes"),
                 ])
def _attributes(d, ctx):
    out = {"signup_tenure_all": d.signup_age}
    for col, name in zip(d.attribute_cols, d.attribute_slugs):
        out[f"attr_{name}"] = d.attributes[col]
    return out
