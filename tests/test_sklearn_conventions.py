"""scikit-learn conventions of every public estimator.

- ``check_estimator`` runs on each estimator; the checks it fails are listed below with the reason (they all feed
  NumPy arrays, sparse matrices or lists, while crmml estimators take DataFrames with canonical column names:
  a legitimate, documented limitation). The test is strict both ways: any other check failing fails the test,
  and a listed check that starts passing fails it too (so the list stays true).
- The segmenters honour ``set_output``, ``get_feature_names_out`` and ``n_features_in_`` on frames.
- ``GridSearchCV`` with a scorer runs over each estimator.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.utils.estimator_checks import check_estimator

from crmml.churn import ChurnModel, RecencyFrequencyBaseline, make_churn_snapshot
from crmml.clv import BetaGeoModel, CLVModel, GammaGammaModel, ParetoNBDModel, summarize
from crmml.datasets import make_synthetic_crm
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
_CLASSIFIER = ["check_classifier_data_not_an_array", "check_classifiers_classes", "check_classifiers_one_label",
               "check_classifiers_regression_target", "check_classifiers_train", "check_fit1d",
               "check_requires_y_none", "check_supervised_y_2d", "check_supervised_y_no_nan"]
_CLV_FITTER = ["check_all_zero_sample_weights_error", "check_fit1d", "check_sample_weight_equivalence_on_dense_data",
               "check_sample_weights_list", "check_sample_weights_not_an_array",
               "check_sample_weights_not_overwritten", "check_sample_weights_pandas_series",
               "check_sample_weights_shape"]
EXTRA = {
    "RFMSegmenter": [*_TRANSFORMER, "check_transformer_preserve_dtypes"],
    "RuleSegmenter": [*_TRANSFORMER, "check_transformer_preserve_dtypes"],
    "CustomerClusterer": [*_TRANSFORMER, "check_clustering"],
    "ChurnModel": _CLASSIFIER, "RecencyFrequencyBaseline": _CLASSIFIER,
    "BetaGeoModel": _CLV_FITTER, "ParetoNBDModel": _CLV_FITTER, "GammaGammaModel": _CLV_FITTER,
}
ESTIMATORS = [RFMSegmenter(), CustomerClusterer(n_clusters=3), RuleSegmenter({"high": "x0 > 0"}),
              ChurnModel(n_estimators=10), RecencyFrequencyBaseline(), CLVModel(), BetaGeoModel(), ParetoNBDModel(),
              GammaGammaModel(), NextBestOffer(), PastPurchasesBaseline(), PopularityBaseline(),
              LeadScorer(random_state=0), RuleLeadScorer()]


def expected_failed_checks(estimator) -> dict:
    """The documented expected failures of ``estimator``: check name -> reason."""
    return {name: FRAME_ONLY for name in [*COMMON, *EXTRA.get(type(estimator).__name__, [])]}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_check_estimator(estimator):
    expected = expected_failed_checks(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=expected, on_fail=None)
    failed = {r["check_name"]: f"{type(r['exception']).__name__}: {r['exception']}"
              for r in results if r["status"] == "failed"}
    assert failed == {}
    xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
    assert xfailed == set(expected), f"listed but passing now: {sorted(set(expected) - xfailed)}"
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_estimators_unfitted", "check_get_params_invariance", "check_set_params",
            "check_no_attributes_set_in_init", "check_parameters_default_constructible"} <= passed


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


@pytest.mark.parametrize("est", [BetaGeoModel(), ParetoNBDModel(), GammaGammaModel()], ids=lambda e: type(e).__name__)
def test_grid_search_clv_fitters(crm, est):
    summary = summarize(crm.transactions, AS_OF)
    if isinstance(est, GammaGammaModel):
        summary = summary[summary["frequency"] > 0]
    _grid(est, {"tol": [1e-7, 1e-6]}, lambda e, X, y=None: e.log_likelihood(X), summary)


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


def test_grid_search_lead_scorers(crm):
    leads = crm.leads

    def auc(est, X, y=None):
        from sklearn.metrics import roc_auc_score

        return roc_auc_score(X["converted"], est.score_leads(X)["probability"])

    _grid(LeadScorer(model="logistic", cv=3, random_state=0, min_leads=50, min_conversions=10), {"C": [0.1, 1.0]},
          auc, leads)
    rules = {"budget": ("has_budget == 1", 40), "big": ("employees >= 100", 30)}
    _grid(RuleLeadScorer(rules), {"grade_thresholds": [(75, 50, 25), (80, 60, 40)]}, auc, leads)
