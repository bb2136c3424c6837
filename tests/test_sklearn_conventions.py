"""scikit-learn conventions of every public estimator.

- ``check_estimator`` runs on each estimator; the checks it fails are listed below with the reason (they all feed
  NumPy arrays, sparse matrices or lists, while crmml estimators take DataFrames with canonical column names:
  a legitimate, documented limitation). The test is strict both ways: any other check failing fails the test,
  and a listed check that starts passing fails it too (so the list stays true).
- The segmenters honour ``set_output``, ``get_feature_names_out`` and ``n_features_in_`` on frames.
- ``GridSearchCV`` with a scorer runs over each estimator whose ``fit`` it can call (the others are listed with why).
- Both lists are checked against the public API: every ``BaseEstimator`` in a subpackage's ``__all__`` is covered.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.utils.estimator_checks import check_estimator

from crmml.churn import (ChurnModel, CoxBaseline, RecencyFrequencyBaseline, TimeToChurnModel, make_churn_snapshot,
                         make_time_to_event)
from crmml.clv import (BetaGeoBetaBinomModel, BetaGeoCNBDModel, BetaGeoModel, CLVModel, FeatureCLVModel,
                       GammaGammaModel, ModifiedBetaGeoCNBDModel, ModifiedBetaGeoModel, NBDModel, ParetoNBDModel,
                       ShiftedBetaGeometricModel, summarize)
from crmml.datasets import make_synthetic_crm
from crmml.decisions import RetentionPlanner, UpliftModel
from crmml.features import build_features
from crmml.recommend import (NextBestOffer, PastPurchasesBaseline, PopularityBaseline, ranking_metrics,
                             time_split)
from crmml.scoring import LeadScorer, RuleLeadScorer
from crmml.segmentation import CustomerClusterer, RFMSegmenter, RuleSegmenter, rfm_table

FRAME_ONLY = ("DataFrame-only input: crmml estimators read DataFrames with canonical column names (recency, "
              "purchase_count_all, customer_id, ...); this check passes NumPy arrays, sparse matrices or lists")
#: checks every crmml estimator fails, all for FRAME_ONLY
COMMON = [
    "check_complex_data", "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimator_sparse_tag",
    "check_estimators_dtypes", "check_estimators_empty_data_messages", "check_estimators_fit_returns_self",
    "check_estimators_nan_inf", "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_1sample", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
]
_TRANSFORMER = ["check_transformer_data_not_an_array", "check_transformer_general"]
# check_fit1d and check_supervised_y_no_nan (which want any ValueError from a third-party estimator) pass since the
# refusal of an array X is a ParameterError (a ValueError and a TypeError), no longer a bare TypeError
_CLASSIFIER = ["check_classifier_data_not_an_array", "check_classifiers_classes", "check_classifiers_one_label",
               "check_classifiers_regression_target", "check_classifiers_train", "check_requires_y_none",
               "check_supervised_y_2d"]
_CLV_FITTER = ["check_all_zero_sample_weights_error", "check_sample_weight_equivalence_on_dense_data",
               "check_sample_weights_list", "check_sample_weights_not_an_array",
               "check_sample_weights_not_overwritten", "check_sample_weights_pandas_series",
               "check_sample_weights_shape"]
SIGNATURE = ("fit takes what the model needs, not (X, y): survival times and events (CoxBaseline), treatment arms "
             "and outcomes (UpliftModel), a survivor table (ShiftedBetaGeometricModel); check_fit1d calls fit(X, y)")
EXTRA = {
    "RFMSegmenter": [*_TRANSFORMER, "check_transformer_preserve_dtypes"],
    "RuleSegmenter": [*_TRANSFORMER, "check_transformer_preserve_dtypes"],
    "CustomerClusterer": [*_TRANSFORMER, "check_clustering"],
    "ChurnModel": _CLASSIFIER, "RecencyFrequencyBaseline": _CLASSIFIER,
    "BetaGeoModel": _CLV_FITTER, "ParetoNBDModel": _CLV_FITTER, "GammaGammaModel": _CLV_FITTER,
    "ModifiedBetaGeoModel": _CLV_FITTER, "BetaGeoBetaBinomModel": _CLV_FITTER, "NBDModel": _CLV_FITTER,
    "BetaGeoCNBDModel": _CLV_FITTER, "ModifiedBetaGeoCNBDModel": _CLV_FITTER,
}
#: (estimator, check) -> reason, where the reason is not FRAME_ONLY
REASONS = {(name, "check_fit1d"): SIGNATURE for name in ("CoxBaseline", "UpliftModel", "ShiftedBetaGeometricModel")}
ESTIMATORS = [RFMSegmenter(), CustomerClusterer(n_clusters=3), RuleSegmenter({"high": "x0 > 0"}),
              ChurnModel(n_estimators=10), RecencyFrequencyBaseline(), CoxBaseline(), TimeToChurnModel(),
              CLVModel(), FeatureCLVModel(), BetaGeoModel(), ParetoNBDModel(), ModifiedBetaGeoModel(),
              BetaGeoBetaBinomModel(), NBDModel(), BetaGeoCNBDModel(), ModifiedBetaGeoCNBDModel(),
              ShiftedBetaGeometricModel(), GammaGammaModel(), NextBestOffer(), PastPurchasesBaseline(),
              PopularityBaseline(), LeadScorer(random_state=0), RuleLeadScorer(), RetentionPlanner(), UpliftModel()]


def expected_failed_checks(estimator) -> dict:
    """The documented expected failures of ``estimator``: check name -> reason."""
    name = type(estimator).__name__
    listed = [*COMMON, *EXTRA.get(name, []), *(check for (n, check) in REASONS if n == name)]
    return {check: REASONS.get((name, check), FRAME_ONLY) for check in listed}


def _public_estimators() -> set[str]:
    import importlib
    import inspect

    from sklearn.base import BaseEstimator

    found = set()
    for sub in ("churn", "clv", "decisions", "evaluation", "features", "recommend", "scoring", "segmentation",
                "datasets", "persistence", "schema"):
        module = importlib.import_module(f"crmml.{sub}")
        found |= {n for n in module.__all__
                  if inspect.isclass(obj := getattr(module, n)) and issubclass(obj, BaseEstimator)}
    return found


def test_every_public_estimator_is_checked():
    public = _public_estimators()
    assert len(public) >= 25
    assert public == {type(e).__name__ for e in ESTIMATORS}, "add it to ESTIMATORS (and its failures, with why)"
    assert public == GRID_SEARCHED | set(NOT_GRID_SEARCHED) and not GRID_SEARCHED & set(NOT_GRID_SEARCHED)


_SKLEARN = tuple(int(p) for p in sklearn.__version__.split(".")[:2])


def _check_results(estimator, expected):
    """``check_estimator``'s results as scikit-learn >= 1.6 reports them (dicts with ``check_name``, ``status``,
    ``exception``); on older versions (the lower bound is 1.4, which has no ``expected_failed_checks``) each
    generated check is run here, a failure of a listed check counting as ``xfail``."""
    if _SKLEARN >= (1, 6):
        return check_estimator(estimator, expected_failed_checks=expected, on_fail=None)
    from unittest import SkipTest

    renamed = {"check_estimator_sparse_data": "check_estimator_sparse_array",      # split in two by 1.6
               "check_sample_weights_invariance": "check_sample_weight_equivalence_on_dense_data"}   # by 1.6
    results = []
    for est, check in check_estimator(estimator, generate_only=True):
        name = getattr(check, "func", check).__name__
        name = renamed.get(name, name)
        try:
            check(est)
            status, exc = "passed", None
        except SkipTest as e:
            status, exc = "skipped", e
        except Exception as e:  # noqa: BLE001 - the check's own failure is the result
            status, exc = ("xfail" if name in expected else "failed"), e
        results.append({"check_name": name, "status": status, "exception": exc})
    return results


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_check_estimator(estimator):
    expected = expected_failed_checks(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = _check_results(estimator, expected)
    failed = {r["check_name"]: f"{type(r['exception']).__name__}: {r['exception']}"
              for r in results if r["status"] == "failed"}
    assert failed == {}
    xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
    if _SKLEARN >= (1, 6):
        assert xfailed == set(expected), f"listed but passing now: {sorted(set(expected) - xfailed)}"
    else:                       # an older scikit-learn runs fewer checks, and some listed ones pass there
        assert xfailed <= set(expected)
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    must = {"check_get_params_invariance", "check_set_params", "check_no_attributes_set_in_init",
            "check_parameters_default_constructible"}
    if _SKLEARN >= (1, 6):                  # scikit-learn 1.4 runs it for classifiers and regressors only
        must.add("check_estimators_unfitted")
    assert must <= passed


# --------------------------------------------------------------------------------------------- frame contract
@pytest.fixture(scope="module")
def crm():
    return make_synthetic_crm(n_customers=300, seed=1)


@pytest.fixture(scope="module")
def rfm(crm):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rfm_table(crm.transactions, "2024-06-01")


SEGMENTERS = [RFMSegmenter(), CustomerClusterer(n_clusters=3, n_init=1, features=["recency", "frequency", "monetary"]),
              RuleSegmenter({"vip": "monetary > 500", "active": "recency < 60"})]


@pytest.mark.parametrize("seg", SEGMENTERS, ids=lambda e: type(e).__name__)
def test_segmenter_output_names_and_set_output(seg, rfm):
    fitted = clone(seg).fit(rfm)
    out = fitted.transform(rfm)
    assert list(out.columns) == list(fitted.get_feature_names_out())
    assert fitted.n_features_in_ == len(fitted.feature_names_in_) > 0
    assert set(fitted.feature_names_in_) <= set(rfm.columns)
    pandas_out = clone(seg).set_output(transform="pandas").fit_transform(rfm)
    pd.testing.assert_frame_equal(pandas_out, out)
    assert clone(seg).set_output(transform="default").fit(rfm).transform(rfm).equals(out)


def test_rfm_score_is_a_float_and_score_table_keeps_the_scores(rfm):
    seg = RFMSegmenter().fit(rfm)
    s = seg.score(rfm)
    assert isinstance(s, float) and 0.0 < s <= 1.0
    table = seg.score_table(rfm)
    assert list(table.columns) == ["r_score", "f_score", "m_score"]
    pd.testing.assert_frame_equal(table, seg.transform(rfm)[["r_score", "f_score", "m_score"]])
    crowded = rfm.assign(recency=rfm["recency"].min())         # every customer in one R level
    assert seg.score(crowded) < s


# --------------------------------------------------------------------------------------------- GridSearchCV
AS_OF = pd.Timestamp("2024-06-01")


def _grid(est, grid, scoring, X, y=None, cv=2, **fit_params):
    gs = GridSearchCV(est, grid, scoring=scoring, cv=cv, error_score="raise", refit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gs.fit(X, y, **fit_params)
    scores = gs.cv_results_["mean_test_score"]
    assert len(scores) == len(next(iter(grid.values()))) and np.isfinite(scores).all()
    return gs


def test_grid_search_segmenters(rfm):
    from sklearn.metrics import silhouette_score

    gs = _grid(RFMSegmenter(), {"monetary": ["monetary", "avg_order_value"]}, None, rfm)
    assert gs.best_params_["monetary"] in ("monetary", "avg_order_value")
    cols = ["recency", "frequency", "monetary"]

    def silhouette(est, X, y=None):
        return silhouette_score(np.log1p(X[cols].clip(lower=0)), est.predict(X))

    _grid(CustomerClusterer(features=cols), {"n_clusters": [3, 4]}, silhouette, rfm)
    _grid(RuleSegmenter(), {"rules": [{"vip": "monetary > 300"}, {"vip": "monetary > 1000"}]},
          lambda est, X, y=None: float((est.transform(X)["rule"] >= 0).mean()), rfm)


@pytest.mark.parametrize("est, grid", [(ChurnModel(n_estimators=15), {"max_depth": [1, 2]}),
                                       (RecencyFrequencyBaseline(), {"recency": ["purchase_recency_all"]})],
                         ids=["ChurnModel", "RecencyFrequencyBaseline"])
def test_grid_search_churn(crm, est, grid):
    X, y = make_churn_snapshot(crm.transactions, "2024-03-01", windows=(30, 90))
    _grid(est, grid, "roc_auc", X, y.to_numpy())


@pytest.mark.parametrize("est", [BetaGeoModel(), ParetoNBDModel(), GammaGammaModel(), ModifiedBetaGeoModel(),
                                 NBDModel(), BetaGeoCNBDModel(k=2), ModifiedBetaGeoCNBDModel(k=2),
                                 BetaGeoBetaBinomModel()], ids=lambda e: type(e).__name__)
def test_grid_search_clv_fitters(crm, est):
    summary = summarize(crm.transactions, AS_OF, litt=isinstance(est, BetaGeoCNBDModel))   # CNBD reads litt
    if isinstance(est, GammaGammaModel):
        summary = summary[summary["frequency"] > 0]
    if isinstance(est, BetaGeoBetaBinomModel):                  # discrete opportunities: 0 <= f <= r <= 6
        rng = np.random.default_rng(0)
        recency = rng.integers(0, 7, 400)
        frequency = np.where(recency > 0, np.minimum(recency, rng.integers(1, 7, 400)), 0)
        summary = pd.DataFrame({"frequency": frequency, "recency": recency, "n_periods": 6})
    weights = np.ones(len(summary))                              # a fit parameter, split with the rows
    _grid(est, {"tol": [1e-7, 1e-6]}, lambda e, X, y=None: e.log_likelihood(X), summary, sample_weight=weights)
    # scikit-learn's fit(X, y=None, sample_weight=...), as Pipeline calls it (the CNBD models lacked y until 2026-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert clone(est).fit(summary, None, sample_weight=weights).log_likelihood(summary) == \
            clone(est).fit(summary, sample_weight=weights).log_likelihood(summary)


def test_grid_search_survival_and_retention(crm):
    """The estimators whose fit takes transactions and a cut-off (as_of= as a fit parameter, one split of the
    whole base: these models make their own time splits), and CoxBaseline with its events as a fit parameter."""
    tx, everything = crm.transactions, [(np.arange(len(crm.transactions)),) * 2]

    def mean_survival(e, X, y=None):
        return float(e.predict_survival([90], transactions=X, as_of=AS_OF).iloc[:, 0].mean())

    _grid(TimeToChurnModel(n_estimators=30, n_snapshots=2), {"max_depth": [2, 3]}, mean_survival, tx, cv=everything,
          as_of=AS_OF)
    _grid(FeatureCLVModel(n_estimators=40, n_snapshots=2), {"max_depth": [2, 3]},
          lambda e, X, y=None: float(e.predict(X)["expected_revenue"].mean()), tx, cv=everything, as_of=AS_OF)
    _grid(RetentionPlanner(n_snapshots=2), {"p_alive_floor": [0.1, 0.3]},
          lambda e, X, y=None: float(e.plan(cost=1.0)["expected_net_gain"].clip(lower=0).sum()), tx, cv=everything,
          as_of=AS_OF)
    tte = make_time_to_event(tx, "2024-03-01")
    X = build_features(tx, "2024-03-01", windows=(30,)).reindex(tte.index)

    def concordant(e, X, y=None):                             # higher risk, shorter time
        return float(np.corrcoef(e.predict_risk(X).to_numpy(), -y)[0, 1])

    _grid(CoxBaseline(), {"l2": [1e-4, 1e-2]}, concordant, X, tte["duration_days"].to_numpy(),
          event=tte["event"].to_numpy())


def test_grid_search_clv_model_out_of_time(crm):
    """Folds by customer; each fold is fitted before AS_OF and scored on its spend in the 90 days after it."""
    tx = crm.transactions

    def neg_mae(est, X, y=None):
        pred = est.predict(X, as_of=AS_OF)["clv"]
        after = X[(X["timestamp"] >= AS_OF) & (X["timestamp"] < AS_OF + pd.Timedelta(days=90))]
        actual = after.groupby("customer_id")["amount"].sum().reindex(pred.index, fill_value=0.0)
        return -float((pred - actual).abs().mean())

    _grid(CLVModel(horizon_days=90, discount_rate=0.0), {"purchase_model": ["bgnbd", "paretonbd"]}, neg_mae, tx,
          cv=GroupKFold(2), groups=tx["customer_id"], as_of=AS_OF)


@pytest.mark.parametrize("est", [NextBestOffer(), PopularityBaseline(), PastPurchasesBaseline()],
                         ids=lambda e: type(e).__name__)
def test_grid_search_recommenders_out_of_time(crm, est):
    """Fitted on rows before AS_OF (``as_of=``), scored on the purchases of the 30 days after it."""
    tx = crm.transactions
    everything = np.arange(len(tx))

    def precision(e, X, y=None):
        _, relevant = time_split(X, AS_OF, 30)
        recs = e.recommend(pd.unique(relevant["customer_id"]), k=5)
        return ranking_metrics(recs, relevant, k=5)["precision"]

    grid = {"window_days": [30, 60]} if not isinstance(est, NextBestOffer) else {"n_neighbors": [10, 50]}
    _grid(est, grid, precision, tx, cv=[(everything, everything)], as_of=AS_OF)


#: the estimators GridSearchCV runs over in this file, and those it cannot, with why
GRID_SEARCHED = {"RFMSegmenter", "CustomerClusterer", "RuleSegmenter", "ChurnModel", "RecencyFrequencyBaseline",
                 "BetaGeoModel", "ParetoNBDModel", "GammaGammaModel", "ModifiedBetaGeoModel", "NBDModel",
                 "BetaGeoCNBDModel", "ModifiedBetaGeoCNBDModel", "BetaGeoBetaBinomModel", "CLVModel",
                 "TimeToChurnModel", "FeatureCLVModel", "RetentionPlanner", "CoxBaseline", "NextBestOffer",
                 "PopularityBaseline", "PastPurchasesBaseline", "LeadScorer", "RuleLeadScorer"}
NOT_GRID_SEARCHED = {
    "UpliftModel": "fit(X, treatment, y): the outcome is the keyword y, which GridSearchCV.fit keeps for itself",
    "ShiftedBetaGeometricModel": "fit(survivors) reads a periods x cohorts table: its rows are periods, not samples, "
                                 "so there is nothing to cross-validate",
}


def test_grid_search_lead_scorers(crm):
    leads = crm.leads

    def auc(est, X, y=None):
        from sklearn.metrics import roc_auc_score

        return roc_auc_score(X["converted"], est.score_leads(X)["probability"])

    _grid(LeadScorer(model="logistic", cv=3, random_state=0, min_leads=50, min_conversions=10), {"C": [0.1, 1.0]},
          auc, leads)
    rules = {"budget": ("has_budget == 1", 40), "big": ("employees >= 100", 30)}
    _grid(RuleLeadScorer(rules), {"grade_thresholds": [(75, 50, 25), (80, 60, 40)]}, auc, leads)
