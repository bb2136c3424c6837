"""Next-best-offer: top-k offers per customer under business rules, evaluated on a time split."""

from crmml.recommend._baselines import PastPurchasesBaseline, PopularityBaseline
from crmml.recommend._evaluate import evaluate_recommendations, ranking_metrics, time_split
from crmml.recommend._model import NextBestOffer

__all__ = ["NextBestOffer", "PastPurchasesBaseline", "PopularityBaseline", "evaluate_recommendations",
           "ranking_metrics", "time_split"]
