"""Next-best-offer: top-k offers per customer under business rules, evaluated on a time split."""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.recommend._baselines": ("PastPurchasesBaseline", "PopularityBaseline"),
    "crmml.recommend._evaluate": ("evaluate_recommendations", "ranking_metrics", "time_split"),
    "crmml.recommend._model": ("NextBestOffer",),
}

__all__ = ["NextBestOffer", "PastPurchasesBaseline", "PopularityBaseline", "evaluate_recommendations",
           "ranking_metrics", "time_split"]

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
