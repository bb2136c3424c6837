"""The feature registry: each family declares its features beside its computation.

A family is a function ``compute(data, ctx) -> {name: ndarray}`` registered
with :meth:`FeatureRegistry.family`, which also takes the family's feature
templates. A template expands into concrete features over the windows of the
call (``per="window"``), over the event types, channels or customer attributes
present (``over=...``), or once for the whole history (``window="all"``).
Names are deterministic: ``{measure}_{agg}_{window}``, for example
``amount_sum_90d`` or ``gap_days_std_all``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from crmml.exceptions import ParameterError

__all__ = ["FeatureTemplate", "FeatureFamily", "FeatureRegistry", "FeatureContext", "REGISTRY", "model_channels",
           "scoring_frame", "values_before"]


def slug(value) -> str:
    """A column-name-safe lowercase token for a category value (``"Web Visit"`` -> ``"web_visit"``)."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", str(value)).strip("_").lower()
    return s or "blank"


def values_before(frame: pd.DataFrame, column: str, before: pd.Timestamp) -> list:
    """The distinct non-missing values of ``frame[column]`` in the rows whose ``timestamp`` is before ``before``
    (one factorize of the column and a mask of its codes; the rows are not copied). Point in time: a value seen
    only at or after ``before`` is not returned.

    >>> f = pd.DataFrame({"channel": ["web", None, "Web", "shop"],
    ...                   "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-03-01", "2024-01-03"])})
    >>> values_before(f, "channel", pd.Timestamp("2024-02-01"))
    ['web', 'shop']
    """
    codes, values = pd.factorize(frame[column])
    seen = np.zeros(len(values), dtype=bool)
    seen[codes[(codes >= 0) & (frame["timestamp"].to_numpy() < before.to_datetime64())]] = True
    return list(np.asarray(values, dtype=object)[seen])


def model_channels(feature_names, values=()) -> tuple:
    """The ``channels=`` that rebuild a fitted model's channel features on any part of the customers.

    The channels named by ``channel_<slug>_share_<n>d`` features, as spelt in ``values`` (the channel values
    present, e.g. :func:`values_before` of the scoring rows; missing values are skipped), or the slug itself
    when a channel is absent there (share 0), so every ``--batch`` part and every Spark bucket gets the same
    columns and the same ``channel_nunique``.

    >>> model_channels(["recency_days", "channel_web_shop_share_30d"], ["Web Shop"])
    ('Web Shop',)
    """
    wanted = sorted({m.group(1) for c in feature_names if (m := re.fullmatch(r"channel_(.+)_share_\d+d", str(c)))})
    present = {slug(v): v for v in sorted({str(v) for v in values if not pd.isna(v)}, reverse=True)}
    return tuple(present.get(w, w) for w in wanted)


def scoring_frame(X: pd.DataFrame, feature_names, owner: str = "the churn model",
                  hint: str = "pass customers= / events= as in fit") -> pd.DataFrame:
    """``X``'s columns in a fitted model's order, or a :class:`crmml.SchemaError` naming the features the scoring
    frames do not give (``crmml score``, ``crmml.spark.score`` and ``FeatureCLVModel.predict`` build the features
    themselves; scoring a missing feature as missing would change every score silently).

    >>> scoring_frame(pd.DataFrame({"b": [1.0], "a": [2.0]}), ["a", "b"]).columns.tolist()
    ['a', 'b']
    """
    from crmml.schema import SchemaError

    missing = [str(c) for c in feature_names if c not in X.columns]
    if missing:
        raise SchemaError("transactions", None, f"{owner} reads {len(missing)} feature(s) these frames do not give "
                          f"(e.g. {missing[:3]}): features of the customers frame (attr_*, signup_*) and of events "
                          f"need those frames ({hint}); others need the transaction columns the model was trained "
                          "with (product_id, category, quantity, channel)")
    return X[list(feature_names)]


@dataclass(frozen=True)
class FeatureContext:
    """What the expansion of templates depends on (fixed for one call).

    >>> from crmml.features import REGISTRY, FeatureContext
    >>> REGISTRY["gaps"].names(FeatureContext(windows=(30,)))[:3]
    ['gap_days_mean_30d', 'gap_days_std_30d', 'gap_days_max_30d']
    """

    windows: tuple = (7, 14, 30, 60, 90, 180, 365)
    event_types: tuple = ()
    channels: tuple = ()
    attributes: tuple = ()


@dataclass(frozen=True)
class FeatureTemplate:
    """One feature (or one per window / per value).

    ``measure`` may contain ``{value}`` (an event type, channel or attribute,
    slugged); ``description`` may contain ``{window}`` and ``{value}``.

    >>> from crmml.features import FeatureContext, FeatureTemplate
    >>> t = FeatureTemplate("event_{value}", "count", "{value} events in {window}", over="event_types")
    >>> [name for name, *_ in t.expand(FeatureContext(windows=(7, 30), event_types=("email_open",)))]
    ['event_email_open_count_7d', 'event_email_open_count_30d']
    """

    measure: str
    agg: str
    description: str
    per: str = "window"          # "window": one feature per window; "all": whole history
    over: str | None = None      # None, "event_types", "channels" or "attributes"

    def expand(self, ctx: FeatureContext):
        values = getattr(ctx, self.over) if self.over else (None,)
        for v in values:
            measure = self.measure.format(value=slug(v)) if v is not None else self.measure
            if self.per == "all":
                yield (f"{measure}_{self.agg}_all" if self.agg else measure, None,
                       self.description.format(window="the whole history", value=v), v)
            else:
                for w in ctx.windows:
                    yield (f"{measure}_{self.agg}_{w}d", int(w),
                           self.description.format(window=f"the last {w} days", value=v), v)


@dataclass
class FeatureFamily:
    """A named group of feature templates with the function that computes them (see :class:`FeatureRegistry`).

    >>> from crmml.features import REGISTRY
    >>> fam = REGISTRY["returns"]
    >>> fam.requires, fam.names(FeatureContext(windows=(30,)))[0]
    ('transactions', 'return_count_30d')
    """

    name: str
    description: str
    requires: str
    templates: tuple
    compute: Callable = field(repr=False)

    def catalog_rows(self, ctx: FeatureContext):
        for t in self.templates:
            for name, window, desc, _ in t.expand(ctx):
                yield {"name": name, "family": self.name, "window": window, "description": desc}

    def names(self, ctx: FeatureContext) -> list:
        return [r["name"] for r in self.catalog_rows(ctx)]


class FeatureRegistry:
    """An explicit, ordered registry of feature families.

    >>> from crmml.features import FeatureContext, FeatureRegistry, FeatureTemplate
    >>> reg = FeatureRegistry()
    >>> @reg.family("spend", description="spend", requires="transactions",
    ...             templates=[FeatureTemplate("amount", "sum", "net amount in {window}")])
    ... def spend(data, ctx):
    ...     ...
    >>> reg.catalog(FeatureContext(windows=(30, 90)))["name"].tolist()
    ['amount_sum_30d', 'amount_sum_90d']
    """

    def __init__(self):
        self._families: dict = {}

    def family(self, name: str, *, description: str, requires: str, templates):
        """Decorator registering ``compute(data, ctx)`` as the family ``name``."""
        def deco(fn):
            if name in self._families:
                raise ParameterError(f"feature family {name!r} is already registered")
            self._families[name] = FeatureFamily(name, description, requires, tuple(templates), fn)
            return fn
        return deco

    def __iter__(self):
        return iter(self._families.values())

    def __getitem__(self, name):
        return self._families[name]

    def catalog(self, ctx: FeatureContext, requires=("transactions", "events", "customers")) -> pd.DataFrame:
        rows = [r for fam in self if fam.requires in requires for r in fam.catalog_rows(ctx)]
        out = pd.DataFrame(rows, columns=["name", "family", "window", "description"])
        out["window"] = out["window"].astype("Int64")
        return out


#: The registry used by :func:`crmml.features.build_features`.
REGISTRY = FeatureRegistry()
