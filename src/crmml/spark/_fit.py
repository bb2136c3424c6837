"""What is learned across customers, fit on the driver from compact per-customer rows.

:func:`fit_clv` builds the CLV summary on the cluster and collects only its distinct
``(frequency, recency, T, monetary_value)`` rows with their counts: one-time buyers collapse to
one row per ``T``, so the driver holds about (number of distinct ``T``) + (repeat buyers) rows
(``monetary_value`` is continuous, and the Gamma-Gamma likelihood needs it per repeat buyer).
RFM edges and cluster centres are fit from the per-customer table collected with
:func:`crmml.spark.to_pandas` (:func:`fit_segmenter`): six numbers per customer, about 60 bytes,
so 10M customers need about 1 GB of driver memory.
"""

from __future__ import annotations

from crmml._utils import check_as_of, check_in
from crmml.exceptions import DataError, DroppedCustomersWarning
from crmml.spark._compute import OUTSIDE, SUMMARY_COLUMNS, _summary_part, _tx_table, rfm_table
from crmml.spark._errors import surface_errors
from crmml.spark._frames import check_spark_frame, map_spark_columns, to_pandas

__all__ = ["fit_clv", "fit_segmenter"]


def fit_clv(transactions, as_of, *, columns=None, n_buckets=None, **params):
    """Fit a :class:`crmml.clv.CLVModel` on Spark transactions: summary on the cluster, fit on the driver.

    Gives the same parameters as ``CLVModel(**params).fit(transactions, as_of)`` on one machine
    (the fit of weighted distinct rows equals the fit of the expanded rows, bit for bit).

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
    as_of : timestamp or str
    columns : dict, optional
        Your column names -> canonical names (as in the pandas API).
    n_buckets : int, optional
    **params
        :class:`crmml.clv.CLVModel` parameters (``purchase_model``, ``freq``, ``horizon_days``...).

    Returns
    -------
    CLVModel
        Fitted, without training customers (``predict`` needs transactions: use :func:`crmml.spark.score`).

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.spark import fit_clv, to_spark
    >>> tx = make_synthetic_crm(n_customers=300, seed=1, with_events=False).transactions
    >>> model = fit_clv(to_spark(getfixture("spark"), tx), "2024-07-01", horizon_days=180)
    >>> sorted(model.purchase_model_.params_.index)
    ['a', 'alpha', 'b', 'r']
    """
    from pyspark.sql import functions as F

    from crmml.clv import CLVModel

    model = CLVModel(**params)
    model._check_params()
    as_of = check_as_of(as_of, "fit_clv")
    tx = check_spark_frame(map_spark_columns(columns, transactions=transactions)["transactions"], "transactions",
                           "fit_clv")
    # CLVModel.fit keeps customers with only returns (rule 'no_purchase') without a warning: their count is not said
    warn = {**OUTSIDE, "drop": (DroppedCustomersWarning,)}
    summary = _tx_table("fit_clv", tx, as_of, _summary_part, SUMMARY_COLUMNS, n_buckets, freq=model.freq,
                        occasion=model.occasion, start=None, warn=warn)
    rows = summary.groupBy("frequency", "recency", "T", "monetary_value").agg(F.count(F.lit(1)).alias("n"))
    with surface_errors():
        compact = to_pandas(rows, sort=True)
        if model.spend_model is not None and len(compact):
            if tx.where(F.col("amount").isNotNull() & ~F.isnan("amount")).limit(1).count() == 0:
                raise DataError("fit_clv: transactions.amount is missing on every row; pass spend_model=None "
                                "to model purchases only.")
    weights = compact.pop("n").to_numpy(dtype="float64")
    return model.fit_summary(compact, as_of, sample_weight=weights)


def fit_segmenter(transactions, as_of, *, method="rfm", columns=None, n_buckets=None, **params):
    """Fit an ``RFMSegmenter`` (``method="rfm"``) or ``CustomerClusterer`` (``"clusters"``) on the RFM table
    built on the cluster and collected to the driver (see the module notes for the memory it takes).

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.spark import fit_segmenter, to_spark
    >>> tx = make_synthetic_crm(n_customers=300, seed=1, with_events=False).transactions
    >>> type(fit_segmenter(to_spark(getfixture("spark"), tx), "2024-07-01")).__name__
    'RFMSegmenter'
    """
    from crmml.segmentation import CustomerClusterer, RFMSegmenter

    check_in(method, "method", "fit_segmenter", ("rfm", "clusters"))
    with surface_errors():
        table = to_pandas(rfm_table(transactions, as_of, columns=columns, n_buckets=n_buckets), index="customer_id")
    est = RFMSegmenter(**params) if method == "rfm" else CustomerClusterer(**params)
    return est.fit(table)

