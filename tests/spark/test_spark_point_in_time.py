"""crmml.spark, point in time: the sweep of tests/test_point_in_time_sweep.py on Spark.

Every ``crmml.spark`` entry point with a cut-off runs on the synthetic CRM's frames cut at ``as_of`` and on the
whole CRM plus hostile rows at and after it (tests/_pit.py: rows exactly at ``as_of``, 1 ns, 3 days and 30 years
later, new customers, products, channels and event types, amounts of 1e12, signups after ``as_of``); both outputs
must be identical (``to_pandas``, ``check_exact``) and equal the pandas API's output on the cut frames. Labels read
up to ``as_of + horizon``: both runs see the whole CRM, the hostile rows start at that end.

Timestamps are floored to the microsecond (Spark's resolution) and rows put in canonical order before both
engines see them (as in tests/spark/test_spark.py).
"""

from __future__ import annotations

import inspect
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
from _pit import AS_OF, cut, hostile, same, small_crm  # noqa: E402
from test_spark import _text, _us  # noqa: E402

EARLY = pd.Timestamp("2024-02-01")
HORIZON = 45                                   # make_churn_labels' window: as_of + 45 days

#: crmml.spark entry points with an as_of that read no time-stamped rows when given it, and why
NOT_SWEPT = {"score LeadScorer": "scores the leads frame (one row per lead, no timestamps); as_of is not used",
             "score RuleLeadScorer": "scores the leads frame (one row per lead, no timestamps); as_of is not used"}


def _both(spark, f):
    """``f``'s frames for both engines: pandas (microseconds, canonical order) and Spark."""
    from crmml.spark import to_spark

    pdf = SimpleNamespace(tx=_us(f.tx), ev=_us(f.ev), cu=_us(f.cu))
    return SimpleNamespace(pd=pdf, sp=SimpleNamespace(**{k: to_spark(spark, v) for k, v in vars(pdf).items()}))


def _respelled(f, at):
    """``f`` plus a purchase 3 days after ``at`` in channel 'Online', another spelling of the 'online' column of
    the channel features (its slug): the spelling a model's channel feature is rebuilt from must come from the rows
    before ``at``."""
    row = f.tx[f.tx["timestamp"] < at].iloc[[0]].assign(timestamp=at + pd.Timedelta(days=3), channel="Online",
                                                        transaction_id=f.tx["transaction_id"].max() + 1)
    return SimpleNamespace(**{**vars(f), "tx": pd.concat([f.tx, row], ignore_index=True)})


@pytest.fixture(scope="module")
def runs(spark):
    """name -> (first, second) frames: the cut CRM and the hostile one (for a window ending at ``as_of``); the CRM
    and the CRM with hostile rows from ``as_of + HORIZON`` (the labels)."""
    crm = small_crm()
    late = AS_OF + pd.Timedelta(days=HORIZON)
    return {None: (_both(spark, cut(crm, AS_OF)), _both(spark, _respelled(hostile(crm, AS_OF), AS_OF))),
            "labels": (_both(spark, crm), _both(spark, hostile(crm, late)))}


class _Models:
    """Models fitted once with the pandas API on the cut frames (both runs score with the same model)."""

    def __init__(self, f):
        self.f, self._cache = f, {}

    def __getitem__(self, kind):
        if kind not in self._cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._cache[kind] = self._fit(kind)
        return self._cache[kind]

    def _fit(self, kind):
        from crmml.churn import ChurnModel, make_churn_snapshot
        from crmml.clv import CLVModel
        from crmml.recommend import NextBestOffer
        from crmml.segmentation import CustomerClusterer, RFMSegmenter, rfm_table

        f = self.f
        if kind.startswith("ChurnModel"):
            X, y = make_churn_snapshot(f.tx, AS_OF - pd.Timedelta(days=HORIZON), HORIZON, events=f.ev,
                                       customers=f.cu)
            X = X.select_dtypes("number")
            if kind == "ChurnModel channels":          # a model that reads the channel shares (the other does not)
                X = X[[c for c in X.columns if c.startswith("channel_")]]
            return ChurnModel(n_estimators=30, early_stopping_rounds=10, random_state=0).fit(X, y.to_numpy())
        return {"RFMSegmenter": lambda: RFMSegmenter().fit(rfm_table(f.tx, AS_OF)),
                "CustomerClusterer": lambda: CustomerClusterer(random_state=0).fit(rfm_table(f.tx, AS_OF)),
                "CLVModel": lambda: CLVModel(horizon_days=90).fit(f.tx, AS_OF),
                "NextBestOffer": lambda: NextBestOffer().fit(f.tx, as_of=AS_OF)}[kind]()


@pytest.fixture(scope="module")
def models(runs):
    return _Models(runs[None][0].pd)


def _fitted_clv(model):
    return {"purchase": model.purchase_model_.params_, "spend": model.spend_model_.params_}


def _scored(kind):
    """``crmml.spark.score`` with the model ``kind`` (reasons where the model gives them)."""
    def call(s, m):
        from crmml.spark import score

        return score(m[kind], s.tx, AS_OF, s.ev, s.cu, reasons=kind.startswith("ChurnModel"), k=5)
    return call


def _pandas_score(kind):
    """What ``crmml.spark.score`` runs in each bucket, on one machine."""
    def call(p, m):
        from crmml.features import build_features
        from crmml.features._registry import model_channels
        from crmml.segmentation import rfm_table

        model = m[kind]
        if kind == "CLVModel":
            return model.predict(p.tx, as_of=AS_OF)
        if kind == "NextBestOffer":
            return model.recommend(p.tx.loc[p.tx["timestamp"] < AS_OF, "customer_id"].unique(), k=5)
        if kind.startswith("ChurnModel"):
            channels = model_channels(model.feature_names_in_, p.tx["channel"])
            X = build_features(p.tx, AS_OF, p.ev, p.cu, channels=channels)
            return model.explain(X.reindex(columns=list(model.feature_names_in_)), top_n=3)
        return model.transform(rfm_table(p.tx, AS_OF))
    return call


def _cases():
    """``name -> (spark(frames, models), pandas(frames, models) or None, run)``: ``spark`` returns a Spark frame
    (compared after ``to_pandas``) or a fitted model's parts; ``run``: the key of :func:`runs`."""
    from crmml import clv, segmentation
    from crmml import spark as cs
    from crmml.churn import make_churn_labels
    from crmml.features import build_features

    A = AS_OF
    return {
        "build_features": (lambda s, m: cs.build_features(s.tx, A, s.ev, s.cu),
                           lambda p, m: build_features(p.tx, A, p.ev, p.cu), None),
        "rfm_table": (lambda s, m: cs.rfm_table(s.tx, A), lambda p, m: segmentation.rfm_table(p.tx, A), None),
        "summarize": (lambda s, m: cs.summarize(s.tx, A), lambda p, m: clv.summarize(p.tx, A), None),
        "summarize start=": (lambda s, m: cs.summarize(s.tx, A, start=EARLY),
                             lambda p, m: clv.summarize(p.tx, A, start=EARLY), None),
        "make_churn_labels": (lambda s, m: cs.make_churn_labels(s.tx, A, HORIZON),
                              lambda p, m: make_churn_labels(p.tx, A, HORIZON), "labels"),
        "fit_clv": (lambda s, m: _fitted_clv(cs.fit_clv(s.tx, A, horizon_days=90)),
                    lambda p, m: _fitted_clv(clv.CLVModel(horizon_days=90).fit(p.tx, A)), None),
        "fit_segmenter": (lambda s, m: _segments(cs.fit_segmenter(s.tx, A), m),
                          lambda p, m: _segments(segmentation.RFMSegmenter().fit(segmentation.rfm_table(p.tx, A)), m),
                          None),
        "fit_segmenter clusters": (
            lambda s, m: _segments(cs.fit_segmenter(s.tx, A, method="clusters", random_state=0), m),
            lambda p, m: _segments(segmentation.CustomerClusterer(random_state=0).fit(segmentation.rfm_table(p.tx, A)),
                                   m), None),
        **{f"score {kind}": (_scored(kind), _pandas_score(kind), None)
           for kind in ("RFMSegmenter", "CustomerClusterer", "CLVModel", "ChurnModel", "ChurnModel channels",
                        "NextBestOffer")},
    }


def _segments(model, m):
    """A fitted segmenter, by what it does: its segments of the customers of the cut frames."""
    from crmml.segmentation import rfm_table

    return model.transform(rfm_table(m.f.tx, AS_OF))


def _out(x):
    from crmml.spark import to_pandas

    if hasattr(x, "sparkSession"):
        index = "customer_id" if "rank" not in x.columns else None
        got = to_pandas(x, index=index, sort=index is not None)
        return got if index else got.sort_values(["customer_id", "rank"]).reset_index(drop=True)
    return x


def _expected(x):
    if isinstance(x, pd.DataFrame):
        x = _text(x)
        if "rank" in x.columns:
            return x.sort_values(["customer_id", "rank"]).reset_index(drop=True)
        return x.sort_index(kind="mergesort")
    return x


def test_every_spark_cutoff_entry_point_is_swept():
    """Each crmml.spark function with an ``as_of`` argument is a case (``score``: one per model kind it scores)."""
    from crmml import spark as cs
    from crmml.spark._score import KINDS

    with_cutoff = {n for n in cs.__all__
                   if inspect.isfunction(getattr(cs, n)) and "as_of" in inspect.signature(getattr(cs, n)).parameters}
    swept = {n.split(" ")[0] for n in _cases()}
    assert with_cutoff == swept, "add the missing functions to _cases()"
    kinds = {n.split(" ")[1] for n in [*_cases(), *NOT_SWEPT] if n.startswith("score ")}
    assert kinds == set(KINDS)


#: the heavier cases (a second ChurnModel fit and its feature job): slow
SLOW = {"score ChurnModel"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else [])
                                  for n in sorted(_cases())])
def test_rows_outside_the_window_change_nothing_on_spark(runs, models, name):
    spark_call, pandas_call, run = _cases()[name]
    first, second = runs[run]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = spark_call(first.sp, models), spark_call(second.sp, models)
        expected = None if pandas_call is None else pandas_call(first.pd, models)
    if hasattr(a, "sparkSession"):                 # a Spark frame: its rows, as the pandas API gives them
        a, b, expected = _out(a), _out(b), _expected(expected)
    same(a, b, name)
    if expected is not None:
        same(a, expected, f"{name} (Spark vs the pandas API)")
