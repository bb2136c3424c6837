"""One rule for cut-off dates: every public entry point that takes ``as_of`` refuses numbers and out-of-range
dates with a named error, and warns when the cut-off lies well after the data."""

import datetime
import warnings

import numpy as np
import pandas as pd
import pytest

from crmml._time import AsOfError, AsOfWarning, as_timestamp


@pytest.mark.parametrize("value", ["2024-07-01", datetime.datetime(2024, 7, 1), datetime.date(2024, 7, 1),
                                   np.datetime64("2024-07-01"), pd.Timestamp("2024-07-01"),
                                   pd.Timestamp("2024-07-01 02:00", tz="Europe/Paris"),
                                   "2024-07-01T00:00:00+00:00",
                                   datetime.datetime(2024, 7, 1, tzinfo=datetime.timezone.utc)])
def test_accepted_forms_give_the_same_naive_nanosecond_timestamp(value):
    ts = as_timestamp(value)
    assert ts == pd.Timestamp("2024-07-01") and ts.tzinfo is None and ts.unit == "ns"


@pytest.mark.parametrize("value", [20240701, 20240701.0, np.int64(20240701), np.float32(1.5), True, np.bool_(False),
                                   1719792000])
def test_numbers_and_bools_are_refused_with_the_fix(value):
    with pytest.raises(AsOfError, match=r"The 'as_of' parameter of f must be a date, not a number: got .*; "
                                        r"pass '2024-07-01'"):
        as_timestamp(value, owner="f")


@pytest.mark.parametrize("value", ["9999-12-31", "2262-04-12", "1677-09-21", "1500-01-01",
                                   datetime.date(9999, 12, 31), np.datetime64("2300-01-01"),
                                   pd.Timestamp("3000-01-01").as_unit("s")])
def test_dates_pandas_cannot_represent_are_refused(value):
    with pytest.raises(AsOfError, match="outside the dates pandas can represent .*no sentinel dates"):
        as_timestamp(value)


@pytest.mark.parametrize("value, match", [("not a date", "which is not a date"), (None, "got None"),
                                          (pd.NaT, "missing value"), ([2024, 7, 1], "got \\[2024, 7, 1\\]")])
def test_non_dates_are_refused(value, match):
    with pytest.raises(AsOfError, match=match):
        as_timestamp(value)


def test_the_range_edges_are_accepted():
    assert as_timestamp("2262-04-11") == pd.Timestamp("2262-04-11")
    assert as_timestamp("1677-09-22") == pd.Timestamp("1677-09-22")


@pytest.fixture(scope="module")
def crm():
    from crmml.datasets import make_synthetic_crm

    return make_synthetic_crm(n_customers=150, seed=4, with_events=True)


@pytest.fixture(scope="module")
def fitted(crm):
    """The fitted models whose methods take a cut-off (about 1 s in all)."""
    from crmml.churn import TimeToChurnModel
    from crmml.clv import CLVModel
    from crmml.scoring import LeadScorer, RuleLeadScorer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"clv": CLVModel().fit(crm.transactions, "2024-03-01"),
                "ttc": TimeToChurnModel().fit(crm.transactions, "2024-06-01"),
                "leads": LeadScorer().fit(crm.leads, crm.events, as_of="2024-06-01"),
                "rules": RuleLeadScorer().fit()}


def _entry_points():
    """Every public function or method taking a cut-off: ``name -> (call(crm, fitted, value), parameter)``; the
    part of a name before a space is the callable's qualified name (tests/test_time.py checks it is complete)."""
    from crmml.churn import (TimeToChurnModel, backtest, make_churn_labels, make_churn_snapshot, make_time_to_event,
                             survival_backtest)
    from crmml.clv import (CLVModel, FeatureCLVModel, calibration_holdout, p_alive_path, summarize,
                           tracking_table)
    from crmml.datasets import make_synthetic_crm
    from crmml.decisions import RetentionPlanner, lost_value
    from crmml.evaluation import clv_report, clv_tracking, summarize_data
    from crmml.features import build_features, compute_features
    from crmml.recommend import (NextBestOffer, PastPurchasesBaseline, PopularityBaseline, evaluate_recommendations,
                                 time_split)
    from crmml.schema import as_timestamp as schema_as_timestamp, validate_transactions
    from crmml.scoring import LeadScorer, RuleLeadScorer, lead_event_features
    from crmml.segmentation import rfm_table

    def lead_method(name):
        return lambda c, f, a: getattr(f["leads"], name)(c.leads, c.events, as_of=a)

    def rule_method(name):
        return lambda c, f, a: getattr(f["rules"], name)(c.leads, c.events, as_of=a)

    return {
        "rfm_table": (lambda c, f, a: rfm_table(c.transactions, a), "as_of"),
        "build_features": (lambda c, f, a: build_features(c.transactions, a), "as_of"),
        "compute_features": (lambda c, f, a: compute_features(validate_transactions(c.transactions), a), "as_of"),
        "summarize": (lambda c, f, a: summarize(c.transactions, a), "as_of"),
        "summarize start=": (lambda c, f, a: summarize(c.transactions, "2024-06-01", start=a), "start"),
        "calibration_holdout": (lambda c, f, a: calibration_holdout(c.transactions, a, "2024-06-01"),
                                "calibration_end"),
        "calibration_holdout observation_end": (lambda c, f, a: calibration_holdout(c.transactions, "2024-03-01", a),
                                                "observation_end"),
        "make_churn_labels": (lambda c, f, a: make_churn_labels(c.transactions, a), "as_of"),
        "make_churn_snapshot": (lambda c, f, a: make_churn_snapshot(c.transactions, a), "as_of"),
        "make_time_to_event": (lambda c, f, a: make_time_to_event(c.transactions, a), "as_of"),
        "make_time_to_event end=": (lambda c, f, a: make_time_to_event(c.transactions, "2024-03-01", end=a), "end"),
        "backtest": (lambda c, f, a: backtest(c.transactions, ["2024-03-01", a]), "cutoffs"),
        "survival_backtest": (lambda c, f, a: survival_backtest(c.transactions, [a]), "cutoffs"),
        "TimeToChurnModel.fit": (lambda c, f, a: TimeToChurnModel().fit(c.transactions, a), "as_of"),
        "TimeToChurnModel.predict_survival": (
            lambda c, f, a: f["ttc"].predict_survival(transactions=c.transactions, as_of=a), "as_of"),
        "CLVModel.fit": (lambda c, f, a: CLVModel().fit(c.transactions, a), "as_of"),
        "CLVModel.fit_summary": (lambda c, f, a: CLVModel().fit_summary(summarize(c.transactions, "2024-03-01"), a),
                                 "as_of"),
        "CLVModel.predict": (lambda c, f, a: f["clv"].predict(c.transactions, as_of=a), "as_of"),
        "CLVModel.predict_interval": (lambda c, f, a: f["clv"].predict_interval(c.transactions, as_of=a, n_draws=10),
                                      "as_of"),
        "FeatureCLVModel.fit": (lambda c, f, a: FeatureCLVModel().fit(c.transactions, a), "as_of"),
        "tracking_table": (lambda c, f, a: tracking_table(f["clv"].purchase_model_, c.transactions, a,
                                                          "2024-06-01"), "calibration_end"),
        "tracking_table observation_end": (lambda c, f, a: tracking_table(
            f["clv"].purchase_model_, c.transactions, "2024-03-01", a), "observation_end"),
        "p_alive_path": (lambda c, f, a: p_alive_path(f["clv"].purchase_model_, c.transactions,
                                                      c.transactions["customer_id"].iloc[0], a), "as_of"),
        "clv_tracking": (lambda c, f, a: clv_tracking(f["clv"], c.transactions, end=a), "end"),
        "clv_report": (lambda c, f, a: clv_report("never_written.html", f["clv"], c.transactions, end=a), "end"),
        "RetentionPlanner.fit": (lambda c, f, a: RetentionPlanner().fit(c.transactions, a), "as_of"),
        "lost_value": (lambda c, f, a: lost_value(c.transactions, a), "as_of"),
        "NextBestOffer.fit": (lambda c, f, a: NextBestOffer().fit(c.transactions, as_of=a), "as_of"),
        "PopularityBaseline.fit": (lambda c, f, a: PopularityBaseline().fit(c.transactions, as_of=a), "as_of"),
        "PastPurchasesBaseline.fit": (lambda c, f, a: PastPurchasesBaseline().fit(c.transactions, as_of=a), "as_of"),
        "time_split": (lambda c, f, a: time_split(c.transactions, a), "split_date"),
        "evaluate_recommendations": (lambda c, f, a: evaluate_recommendations(NextBestOffer(), c.transactions, a),
                                     "split_date"),
        "lead_event_features": (lambda c, f, a: lead_event_features(c.leads, c.events, as_of=a), "as_of"),
        "LeadScorer.fit": (lambda c, f, a: LeadScorer().fit(c.leads, c.events, as_of=a), "as_of"),
        "LeadScorer.fit without events": (lambda c, f, a: LeadScorer().fit(c.leads, as_of=a), "as_of"),
        **{f"LeadScorer.{m}": (lead_method(m), "as_of") for m in ("score_leads", "explain", "contributions",
                                                                   "evaluate")},
        "LeadScorer.score_leads without events": (lambda c, f, a: f["leads"].score_leads(c.leads, as_of=a), "as_of"),
        "RuleLeadScorer.fit": (lambda c, f, a: RuleLeadScorer().fit(as_of=a), "as_of"),
        **{f"RuleLeadScorer.{m}": (rule_method(m), "as_of") for m in ("matches", "score_leads", "explain",
                                                                       "evaluate")},
        "summarize_data": (lambda c, f, a: summarize_data(c.transactions, as_of=a), "as_of"),
        "as_timestamp": (lambda c, f, a: schema_as_timestamp(a, owner="f"), "as_of"),
        # not a cut-off, but a date all the same: a number was read as nanoseconds since 1970
        "make_synthetic_crm": (lambda c, f, a: make_synthetic_crm(50, start=a, with_events=False), "start"),
    }


#: public callables with a cut-off parameter that are not entry points of the rule, and why
NOT_CUTOFFS = {
    "SyntheticCRM.__init__": "a container of generated frames; start/end describe the data, nothing is cut",
}
CUTOFF_PARAMETERS = {"as_of", "cutoffs", "calibration_end", "observation_end", "end", "start", "split_date"}


def test_the_entry_point_list_is_complete():
    """Every public function or method of crmml's subpackages (crmml.spark: tests/spark) with a cut-off parameter
    is in _entry_points() or NOT_CUTOFFS with a reason."""
    import importlib
    import inspect

    found = set()
    for sub in ("churn", "clv", "decisions", "evaluation", "features", "recommend", "scoring", "segmentation",
                "datasets", "schema", "persistence"):
        module = importlib.import_module(f"crmml.{sub}")
        for name in module.__all__:
            obj = getattr(module, name)
            members = ([(f"{name}.{m}", f) for m, f in inspect.getmembers(obj, inspect.isfunction)
                        if not m.startswith(("_", "set_")) or m == "__init__"] if inspect.isclass(obj)
                       else [(name, obj)] if callable(obj) else [])
            for qualname, fn in members:
                try:
                    params = set(inspect.signature(fn).parameters)
                except (TypeError, ValueError):
                    continue
                if params & CUTOFF_PARAMETERS:
                    found.add(qualname)
    covered = {n.split(" ")[0] for n in _entry_points()}
    assert len(found) > 30
    assert found - covered - set(NOT_CUTOFFS) == set(), "add these to _entry_points() (or NOT_CUTOFFS, with why)"
    assert set(NOT_CUTOFFS) <= found and not covered & set(NOT_CUTOFFS)


@pytest.mark.parametrize("name", sorted(_entry_points()))
@pytest.mark.parametrize("bad", [20240701, "9999-12-31"])
def test_every_entry_point_refuses_a_bad_cutoff(crm, fitted, name, bad, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                                  # clv_report must not write, but just in case
    call, parameter = _entry_points()[name]
    with pytest.raises(AsOfError, match=f"The '{parameter}' parameter of "):
        call(crm, fitted, bad)
    assert list(tmp_path.iterdir()) == []


def test_clv_predict_refuses_a_bad_cutoff(crm):
    from crmml.clv import CLVModel

    model = CLVModel().fit(crm.transactions, "2024-03-01")
    for bad in (20240701, "9999-12-31"):
        with pytest.raises(AsOfError):
            model.predict(crm.transactions, as_of=bad)


def test_a_cutoff_well_after_the_data_warns(crm):
    from crmml.segmentation import rfm_table

    last = crm.transactions["timestamp"].max()
    with warnings.catch_warnings():
        warnings.simplefilter("error", AsOfWarning)
        rfm_table(crm.transactions, last.normalize() + pd.Timedelta(days=1))    # the CLI default: silent
    with pytest.warns(AsOfWarning, match=r"as_of 2030-01-01 is \d+ days after the last row of transactions"):
        rfm_table(crm.transactions, "2030-01-01")


@pytest.mark.parametrize("name", ["build_features", "fit_clv", "fit_segmenter", "make_churn_labels", "rfm_table",
                                  "summarize", "summarize start="])
@pytest.mark.parametrize("bad", [20240701, "9999-12-31"])
def test_spark_entry_points_refuse_a_bad_cutoff_before_touching_the_frame(crm, name, bad):
    """crmml.spark checks the cut-off first: given a pandas frame (which any Spark work would refuse with
    SparkInputError), a bad cut-off is an AsOfError, so no Spark session is needed. crmml.spark.score checks its
    frame first: tests/spark/test_spark.py::test_score_refuses_a_bad_cutoff."""
    pytest.importorskip("pyspark")
    from crmml import spark as cs

    fn, parameter = getattr(cs, name.split(" ")[0]), "start" if "start" in name else "as_of"
    args = (crm.transactions, "2024-06-01") if parameter == "start" else (crm.transactions, bad)
    with pytest.raises(AsOfError, match=f"The '{parameter}' parameter of "):
        fn(*args, **({"start": bad} if parameter == "start" else {}))
