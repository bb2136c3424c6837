"""Every public estimator raises NotFittedError (not AttributeError) from every prediction-like method before fit."""

from __future__ import annotations

import functools
import importlib
import inspect

import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from crmml.churn import ChurnModel, CoxBaseline, RecencyFrequencyBaseline, TimeToChurnModel
from crmml.clv import (
    BetaGeoBetaBinomModel,
    BetaGeoCNBDModel,
    BetaGeoModel,
    CLVModel,
    FeatureCLVModel,
    GammaGammaModel,
    ModifiedBetaGeoCNBDModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
    ShiftedBetaGeometricModel,
)
from crmml.decisions import RetentionPlanner, UpliftModel
from crmml.recommend import NextBestOffer, PastPurchasesBaseline, PopularityBaseline
from crmml.scoring import LeadScorer, RuleLeadScorer
from crmml.segmentation import CustomerClusterer, RFMSegmenter, RuleSegmenter

_X = pd.DataFrame({"purchase_recency_all": [1.0, 20.0], "purchase_count_all": [3.0, 1.0]},
                  index=pd.Index([1, 2], name="customer_id"))
_RFM = pd.DataFrame({"recency": [1.0, 20.0], "frequency": [3, 1], "monetary": [30.0, 5.0]},
                    index=pd.Index([1, 2], name="customer_id"))
_SUMMARY = pd.DataFrame({"frequency": [2.0, 0.0], "recency": [5.0, 0.0], "T": [9.0, 9.0],
                         "monetary_value": [12.0, 0.0]}, index=pd.Index([1, 2], name="customer_id"))
_CNBD = _SUMMARY.assign(litt=[1.5, 0.0])
_BGBB = pd.DataFrame({"frequency": [2, 0], "recency": [4, 0], "n_periods": [6, 6]})
_LEADS = pd.DataFrame({"lead_id": [1, 2], "budget": [1.0, 2.0]})

CASES = [
    (ChurnModel, "predict_proba", (_X,)), (ChurnModel, "predict", (_X,)), (ChurnModel, "predict_risk", (_X,)),
    (ChurnModel, "explain", (_X,)), (ChurnModel, "global_importance", ()),
    (RecencyFrequencyBaseline, "predict_proba", (_X,)), (RecencyFrequencyBaseline, "predict", (_X,)),
    (RecencyFrequencyBaseline, "predict_risk", (_X,)),
    (CustomerClusterer, "predict", (_RFM,)), (CustomerClusterer, "transform", (_RFM,)), (CustomerClusterer, "rules", ()),
    (RFMSegmenter, "score", (_RFM,)), (RFMSegmenter, "score_table", (_RFM,)), (RFMSegmenter, "transform", (_RFM,)), (RFMSegmenter, "summary", (_RFM,)),
    (functools.partial(RuleSegmenter, {"active": "recency < 5"}), "transform", (_RFM,)),
    (BetaGeoModel, "conditional_probability_alive", (_SUMMARY,)),
    (BetaGeoModel, "conditional_expected_purchases", (_SUMMARY, 10)), (BetaGeoModel, "expected_purchases", (10,)),
    (BetaGeoModel, "log_likelihood", (_SUMMARY,)), (BetaGeoModel, "sample_params", (5,)),
    (ParetoNBDModel, "conditional_probability_alive", (_SUMMARY,)),
    (ParetoNBDModel, "conditional_expected_purchases", (_SUMMARY, 10)),
    (ParetoNBDModel, "expected_purchases", (10,)),
    (GammaGammaModel, "conditional_expected_spend", (_SUMMARY,)), (GammaGammaModel, "population_mean_spend", ()),
    (GammaGammaModel, "log_likelihood", (_SUMMARY,)),
    (CLVModel, "predict", ()), (CLVModel, "predict_interval", ()),
    (ModifiedBetaGeoModel, "conditional_probability_alive", (_SUMMARY,)),
    (ModifiedBetaGeoModel, "conditional_expected_purchases", (_SUMMARY, 10)),
    (ModifiedBetaGeoModel, "expected_purchases", (10,)), (ModifiedBetaGeoModel, "probability_of_purchases", (10, 1)),
    (ModifiedBetaGeoModel, "conditional_probability_of_purchases", (_SUMMARY, 10, 1)),
    (NBDModel, "conditional_expected_purchases", (_SUMMARY, 10)), (NBDModel, "expected_purchases", (10,)),
    (NBDModel, "conditional_probability_alive", (_SUMMARY,)), (NBDModel, "probability_of_purchases", (10, 1)),
    (NBDModel, "conditional_probability_of_purchases", (_SUMMARY, 10, 1)),
    (BetaGeoBetaBinomModel, "conditional_probability_alive", (_BGBB,)),
    (BetaGeoBetaBinomModel, "conditional_expected_purchases", (_BGBB, 3)),
    (BetaGeoBetaBinomModel, "expected_purchases", (3,)),
    (BetaGeoCNBDModel, "conditional_probability_alive", (_CNBD,)),
    (BetaGeoCNBDModel, "conditional_expected_purchases", (_CNBD, 10)),
    (BetaGeoCNBDModel, "expected_purchases", (10,)), (BetaGeoCNBDModel, "probability_of_purchases", (10, 1)),
    (ModifiedBetaGeoCNBDModel, "conditional_probability_of_purchases", (_CNBD, 10, 1)),
    (ShiftedBetaGeometricModel, "retention_curve", (5,)), (ShiftedBetaGeometricModel, "retention_rates", (5,)),
    (ShiftedBetaGeometricModel, "expected_residual_lifetime", ()),
    (ShiftedBetaGeometricModel, "retention_interval", (5,)),
    (FeatureCLVModel, "predict", (pd.DataFrame({"customer_id": [1], "timestamp": [pd.Timestamp("2024-01-01")],
                                                "amount": [1.0]}),)),
    (NextBestOffer, "recommend", ([1],)), (PastPurchasesBaseline, "recommend", ([1],)),
    (PopularityBaseline, "recommend", ([1],)),
    (LeadScorer, "score_leads", (_LEADS,)), (LeadScorer, "explain", (_LEADS,)),
    (LeadScorer, "contributions", (_LEADS,)), (LeadScorer, "evaluate", ()),
    (RuleLeadScorer, "score_leads", (_LEADS,)), (RuleLeadScorer, "explain", (_LEADS,)),
    (RuleLeadScorer, "matches", (_LEADS,)),
    (TimeToChurnModel, "predict_survival", ()), (TimeToChurnModel, "predict_churn_probability", ()),
    (TimeToChurnModel, "predict_median", ()), (TimeToChurnModel, "predict_expected_days", ()),
    (CoxBaseline, "predict_risk", (_X,)), (CoxBaseline, "predict_survival", (_X, [10])),
    (RetentionPlanner, "plan", ()), (RetentionPlanner, "report", ("unused.html",)),
    (UpliftModel, "predict_uplift", (_X,)), (UpliftModel, "predict_interval", (_X,)),
    (UpliftModel, "recommend", (_X,)),
]


def _name(factory):
    return getattr(factory, "func", factory).__name__


@pytest.mark.parametrize("factory, method, args", CASES,
                         ids=[f"{_name(f)}.{m}" for f, m, _ in CASES])
def test_unfitted_estimator_raises_not_fitted(factory, method, args):
    est = factory()
    with pytest.raises(NotFittedError):
        getattr(est, method)(*args)


def test_every_public_estimator_is_covered():
    covered = {_name(f) for f, _, _ in CASES}
    public = set()
    for pkg in ("churn", "clv", "decisions", "recommend", "scoring", "segmentation"):
        mod = importlib.import_module(f"crmml.{pkg}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                public.add(name)
    assert public - covered == set()
