"""Point in time, swept over every public entry point with a cut-off (the list is checked against the API).

Each case computes its output on a small synthetic CRM, then again after appending hostile rows where the entry
point may not look: rows exactly at the end of what it may read, a few nanoseconds and days later, thirty years
later; customers, products, categories, channels and event types that exist only then; amounts of 1e12 and
-5e11; customers whose ``signup_date`` is at or after ``as_of``. The outputs must be identical (``check_exact``;
fitted models: their predictions and their saved state, member by member).

What an entry point may read (``window``):

- features, summaries, fits, scores "as of" a cut-off: rows before ``as_of``. The first run sees only those rows
  (every frame cut at ``as_of``, customers signed up before it), the second the whole synthetic CRM plus the
  hostile rows;
- labels and outcomes (``make_churn_labels``, ``lost_value``, backtests, ``time_split``,
  ``evaluate_recommendations``, holdout and tracking tables): up to the end of their documented window (``as_of +
  horizon``, ``observation_end``, ``end``). Both runs see the whole synthetic CRM; the hostile rows start at that
  end.

Customer attributes are not time-stamped: a customer's attribute columns are read as they are (README, "Feature
factory"); who gets a row is decided by ``signup_date`` (missing or before ``as_of``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from _pit import AS_OF, cut, hostile, same, small_crm    # the frames, shared with the Spark sweep
from crmml._time import shift_days      # A + 60 days held at the last instant pandas can represent


@pytest.fixture(scope="module")
def crm():
    return small_crm()


def members(folder: Path) -> dict:
    """A model saved as a folder, member by member (the metadata without its creation time)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            data = p.read_bytes()
            if p.name == "metadata.json":
                data = {k: v for k, v in json.loads(data).items() if k != "created"}
            out[str(p.relative_to(folder))] = data
    return out


def state(model, folder: Path) -> dict:
    """The model as saved by crmml.persistence."""
    from crmml.persistence import save

    save(model, folder, format="dir")
    return members(folder)


# --------------------------------------------------------------------------------------------------- cases
def _fast():
    from crmml.churn import ChurnModel, TimeToChurnModel
    from crmml.clv import FeatureCLVModel

    return SimpleNamespace(
        ttc=lambda: TimeToChurnModel(n_estimators=20, windows=(30, 90, 365), n_snapshots=2),
        churn=lambda: ChurnModel(n_estimators=30, early_stopping_rounds=10),
        fclv=lambda: FeatureCLVModel(horizon_days=90, windows=(30, 90), n_snapshots=2, n_estimators=30))


def _rule_scorer():
    from crmml.scoring import RuleLeadScorer

    return RuleLeadScorer(rules=[{"name": "engaged", "condition": "events_total_count >= 3", "points": 40},
                                 {"name": "recent", "condition": "events_7d_count >= 1", "points": 30},
                                 {"name": "big", "condition": "employees >= 50", "points": 30}])


def _cli(*argv):
    """``crmml --quiet --debug ARGV``: a failure raises (its traceback, not an exit status)."""
    from crmml.cli import main

    assert main(["--quiet", "--debug", *map(str, argv)]) == 0


def _cli_date(at):
    """``at`` as ``--as-of`` text: the date alone at midnight."""
    return at.date() if at == at.normalize() else at.isoformat()


def _cli_train(kind, at=AS_OF):
    """``crmml train KIND --as-of``: the saved model, member by member."""
    def call(f, d, m):
        f.tx.to_parquet(d / "tx.parquet")
        method = ["--method", "clusters"] if kind == "clusters" else []
        _cli("train", "segments" if kind == "clusters" else kind, "--input", d / "tx.parquet", "--model",
             d / "model", "--as-of", _cli_date(at), "--horizon-days", 90, *method)
        return members(d / "model")
    return call


def _cli_score(kind, at=AS_OF):
    """``crmml score --as-of`` with a model fitted on the rows before AS_OF: the scored file."""
    def call(f, d, m):
        from crmml.persistence import save

        save(m.cli_model(kind), d / "model.zip")
        f.tx.to_parquet(d / "tx.parquet")
        _cli("score", "--model", d / "model.zip", "--input", d / "tx.parquet", "--output", d / "out.parquet",
             "--as-of", _cli_date(at))
        return pd.read_parquet(d / "out.parquet")
    return call


def _fitted(model, probe, folder):
    """What a fitted model is: its answers on ``probe`` and its saved state."""
    return {"answers": probe(model), "state": state(model, folder)}


def _cases(A=AS_OF):
    """``name -> (call(frames, folder, models), end)``: ``end(as_of)`` is where the hostile rows start (the end of the
    documented window; ``None``: ``as_of`` itself, and the first run sees only the rows before it). The part of
    a name before a space is the callable's qualified name (checked against the API below). ``A``: the cut-off
    (tests/test_degenerate_inputs.py runs the cases on other data at other cut-offs; ``models`` fitted at it)."""
    from crmml.churn import (backtest, make_churn_labels, make_churn_snapshot, make_time_to_event,
                             survival_backtest)
    from crmml.clv import CLVModel, calibration_holdout, p_alive_path, summarize, tracking_table
    from crmml.decisions import RetentionPlanner, lost_value
    from crmml.evaluation import clv_report, clv_tracking
    from crmml.features import build_features, compute_features
    from crmml.recommend import (NextBestOffer, PastPurchasesBaseline, PopularityBaseline, evaluate_recommendations,
                                 time_split)
    from crmml.schema import validate_customers, validate_events, validate_transactions
    from crmml.scoring import LeadScorer, lead_event_features
    from crmml.segmentation import rfm_table

    fast = _fast()
    early = A - pd.Timedelta(days=121)                  # 2024-02-01 for AS_OF

    def days(n):
        return lambda a: a + pd.Timedelta(days=n)

    def clv(f):
        return CLVModel(horizon_days=90).fit(f.tx, A)

    def ttc(f):
        return fast.ttc().fit(f.tx, A, f.ev, f.cu)

    def leads(f):
        return LeadScorer(cv=3, random_state=0).fit(f.leads, f.lev, as_of=A)

    def nbo_probe(m):
        return m.recommend(k=5)

    def baseline_probe(ids):
        return lambda m: m.recommend(ids, k=5)

    ids = np.arange(1, 60)
    return {
        "build_features": (lambda f, d, m: build_features(f.tx, A, f.ev, f.cu), None),
        "compute_features": (lambda f, d, m: compute_features(validate_transactions(f.tx), A, validate_events(f.ev),
                                                           validate_customers(f.cu)), None),
        "rfm_table": (lambda f, d, m: rfm_table(f.tx, A), None),
        "summarize": (lambda f, d, m: summarize(f.tx, A), None),
        "summarize start=": (lambda f, d, m: summarize(f.tx, A, start=early), None),
        "calibration_holdout": (lambda f, d, m: calibration_holdout(f.tx, early, A), None),
        "make_churn_labels": (lambda f, d, m: make_churn_labels(f.tx, A, 45), days(45)),
        "make_churn_snapshot": (lambda f, d, m: make_churn_snapshot(f.tx, A, 45, events=f.ev, customers=f.cu),
                                days(45)),
        "make_time_to_event": (lambda f, d, m: make_time_to_event(f.tx, A, max_days=120), days(120)),
        "make_time_to_event end=": (lambda f, d, m: make_time_to_event(f.tx, early, end=A), None),
        "backtest": (lambda f, d, m: (lambda r: {"metrics": r.metrics, "predictions": r.predictions,
                                              "features": r.test_features})(
            backtest(f.tx, [early, A], horizon_days=45, n_train_snapshots=2, events=f.ev, customers=f.cu,
                     windows=(30, 90, 365), model=fast.churn())), days(45)),
        "survival_backtest": (lambda f, d, m: survival_backtest(f.tx, [A], model=fast.ttc(), churn_model=fast.churn(),
                                                             n_churn_snapshots=2), days(180)),
        "TimeToChurnModel.fit": (lambda f, d, m: _fitted(ttc(f), lambda m: m.predict_survival(), d), None),
        "TimeToChurnModel.predict_survival": (
            lambda f, d, m: m.ttc.predict_survival(transactions=f.tx, as_of=A, events=f.ev, customers=f.cu), None),
        "CLVModel.fit": (lambda f, d, m: _fitted(clv(f), lambda m: m.predict(), d), None),
        "CLVModel.fit_summary": (lambda f, d, m: _fitted(CLVModel(horizon_days=90).fit_summary(summarize(f.tx, A), A),
                                                      lambda m: m.predict(), d), None),
        "CLVModel.predict": (lambda f, d, m: m.clv.predict(f.tx, as_of=A), None),
        "CLVModel.predict_interval": (lambda f, d, m: m.clv.predict_interval(f.tx, as_of=A, n_draws=20,
                                                                            random_state=3), None),
        "FeatureCLVModel.fit": (lambda f, d, m: _fitted(fast.fclv().fit(f.tx, A, f.ev, f.cu),
                                                     lambda m: m.predict(f.tx, f.ev, f.cu), d), None),
        "tracking_table": (lambda f, d, m: tracking_table(m.clv.purchase_model_, f.tx, early, A, freq="D"), None),
        "p_alive_path": (lambda f, d, m: p_alive_path(m.clv.purchase_model_, f.tx, 3, A), None),
        "clv_tracking": (lambda f, d, m: clv_tracking(m.clv, f.tx, end=shift_days(A, 60)), days(60)),
        "clv_report": (lambda f, d, m: clv_report(d / "clv.html", m.clv, f.tx, end=shift_days(A, 60),
                                               n_points=8).read_text(), days(60)),
        "RetentionPlanner.fit": (lambda f, d, m: _fitted(
            RetentionPlanner(horizon_days=45, value_horizon_days=90, churn_model=fast.churn(), n_snapshots=2,
                             windows=(30, 90, 365)).fit(f.tx, A, f.ev, f.cu), lambda m: m.plan(cost=1.0, effect=0.2),
            d), None),
        "lost_value": (lambda f, d, m: lost_value(f.tx, A, horizon_days=45), days(45)),
        "NextBestOffer.fit": (lambda f, d, m: _fitted(NextBestOffer().fit(f.tx, as_of=A), nbo_probe, d), None),
        "NextBestOffer.fit products=": (lambda f, d, m: _fitted(NextBestOffer().fit(f.tx, f.products, as_of=A),
                                                             nbo_probe, d), None),
        "PopularityBaseline.fit": (lambda f, d, m: _fitted(PopularityBaseline().fit(f.tx, as_of=A),
                                                        baseline_probe(ids), d), None),
        "PastPurchasesBaseline.fit": (lambda f, d, m: _fitted(PastPurchasesBaseline().fit(f.tx, as_of=A),
                                                           baseline_probe(ids), d), None),
        "time_split": (lambda f, d, m: time_split(f.tx, A, horizon_days=30), days(30)),
        "evaluate_recommendations": (lambda f, d, m: evaluate_recommendations(NextBestOffer(), f.tx, A, 30, k=5),
                                     days(30)),
        "lead_event_features": (lambda f, d, m: lead_event_features(f.leads, f.lev, as_of=A), None),
        "LeadScorer.fit": (lambda f, d, m: _fitted(leads(f), lambda m: m.score_leads(f.leads, f.lev, as_of=A), d),
                           None),
        **{f"LeadScorer.{m}": ((lambda name: lambda f, d, m: getattr(m.leads, name)(f.leads, f.lev, as_of=A))(m), None)
           for m in ("score_leads", "contributions", "explain", "evaluate")},
        **{f"cli train {kind}": (_cli_train(kind, A), None)
           for kind in ("segments", "clusters", "clv", "nbo", "churn", "survival", "retention")},
        **{f"cli score {kind}": (_cli_score(kind, A), None) for kind in ("segments", "clv", "churn", "survival")},
        "RuleLeadScorer.fit": (lambda f, d, m: _fitted(_rule_scorer().fit(f.leads, f.lev, as_of=A),
                                                       lambda m: m.score_leads(f.leads, f.lev, as_of=A), d), None),
        **{f"RuleLeadScorer.{m}": ((lambda name: lambda f, d, m: getattr(m.rules, name)(f.leads, f.lev, as_of=A))(m),
                                   None)
           for m in ("matches", "score_leads", "explain", "evaluate")},
    }


#: entry points of the cut-off list (tests/test_time.py) with nothing to sweep, and why
NOT_SWEPT = {
    "as_timestamp": "parses a date; reads no rows",
    "make_synthetic_crm": "generates data; start= is where it begins, nothing is cut",
    "summarize_data": "describes the frame it is given (rows, date range); as_of is only printed beside them",
}


class _Models:
    """Models fitted once on the frames cut at ``as_of``, for the cases of their scoring methods (both runs score
    with the same model; what differs is the frames given to the method)."""

    def __init__(self, base, as_of=AS_OF):
        self.base, self.as_of, self._cache = base, as_of, {}

    def _get(self, name, make):
        if name not in self._cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._cache[name] = make()
        return self._cache[name]

    @property
    def clv(self):
        from crmml.clv import CLVModel

        return self._get("clv", lambda: CLVModel(horizon_days=90).fit(self.base.tx, self.as_of))

    @property
    def ttc(self):
        b = self.base
        return self._get("ttc", lambda: _fast().ttc().fit(b.tx, self.as_of, b.ev, b.cu))

    @property
    def leads(self):
        from crmml.scoring import LeadScorer

        return self._get("leads", lambda: LeadScorer(cv=3, random_state=0).fit(self.base.leads, self.base.lev,
                                                                                 as_of=self.as_of))

    def cli_model(self, kind):
        from crmml.churn import ChurnModel, make_churn_snapshot
        from crmml.segmentation import RFMSegmenter, rfm_table

        b = self.base
        make = {"segments": lambda: RFMSegmenter().fit(rfm_table(b.tx, self.as_of)), "clv": lambda: self.clv,
                "survival": lambda: _fast().ttc().fit(b.tx, self.as_of),      # the CLI reads transactions only
                "churn": lambda: ChurnModel(n_estimators=30, early_stopping_rounds=10).fit(
                    *make_churn_snapshot(b.tx, self.as_of - pd.Timedelta(days=45), 45))}[kind]
        return self._get(f"cli {kind}", make)

    @property
    def rules(self):
        return self._get("rules", lambda: _rule_scorer().fit(self.base.leads, self.base.lev, as_of=self.as_of))


@pytest.fixture(scope="module")
def base(crm):
    return cut(crm, AS_OF)


@pytest.fixture(scope="module")
def models(base):
    return _Models(base)


def test_every_cutoff_entry_point_is_swept():
    """The sweep covers the cut-off entry point list of tests/test_time.py (itself checked against the API)."""
    from test_time import _entry_points

    listed = {n.split(" ")[0] for n in _entry_points()}
    swept = {n.split(" ")[0] for n in _cases() if not n.startswith("cli ")}
    assert listed - swept - set(NOT_SWEPT) == set(), "add these to _cases() (or NOT_SWEPT, with why)"
    assert not swept & set(NOT_SWEPT)


def _run(call, frames, folder, models):
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(frames, folder, models)


@pytest.mark.parametrize("name", sorted(_cases()))
def test_rows_outside_the_window_change_nothing(crm, base, models, name, tmp_path):
    call, end = _cases()[name]
    if end is None:                                   # reads before as_of: only those rows, then everything
        first, second = base, hostile(crm, AS_OF)
    else:                                             # a documented window after as_of: the same CRM both times
        first, second = crm, hostile(crm, end(AS_OF))
    a = _run(call, first, tmp_path / "a", models)
    b = _run(call, second, tmp_path / "b", models)
    if isinstance(a, str):                            # an HTML page names its own file
        b = b.replace(str(tmp_path / "b"), str(tmp_path / "a"))
    same(a, b, name)
