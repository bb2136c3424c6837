"""crmml.spark: the same per-customer computations on Apache Spark DataFrames (extra ``crmml[spark]``).

Same names and arguments as the pandas API; Spark DataFrames in and out, canonical schema. Each
customer's rows are processed together in one customer-hash bucket (``groupBy(bucket).applyInPandas``)
by the pandas code itself, so every row equals what the pandas API returns on the same data
(timestamps at Spark's microsecond resolution). What is learned across customers is fit on the
driver from compact per-customer rows (:func:`fit_clv`; RFM edges and cluster centres from the
per-customer table collected with :func:`to_pandas`).
"""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.spark._compute": ("build_features", "make_churn_labels", "rfm_table", "summarize"),
    "crmml.spark._errors": ("SparkJobError", "surface_errors"),
    "crmml.spark._fit": ("fit_clv", "fit_segmenter"),
    "crmml.spark._frames": ("SparkInputError", "canonical_order", "to_pandas", "to_spark"),
    "crmml.spark._score": ("score",),
    "crmml.spark._session": ("get_session",),
}

__all__ = [
    "SparkInputError",
    "SparkJobError",
    "build_features",
    "canonical_order",
    "fit_clv",
    "fit_segmenter",
    "get_session",
    "make_churn_labels",
    "rfm_table",
    "score",
    "summarize",
    "surface_errors",
    "to_pandas",
    "to_spark",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
