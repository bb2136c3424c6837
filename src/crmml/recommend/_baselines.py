"""Two baselines for next-best-offer: recent global popularity and the customer's own past purchases."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmml._utils import MAX_K, MAX_WINDOW_DAYS, check_as_of, check_number, history_before
from crmml._utils._state import check_codes, fitted_attrs
from crmml.exceptions import InsufficientDataWarning
from crmml.recommend._ids import customer_ids_like
from crmml.recommend._matrices import purchase_rows
from crmml.recommend._ranking import ranks, recommendation_frame
from crmml.schema import map_frames, validate_transactions


def _prepare(transactions, products, as_of, owner, columns):
    """Validated transactions (``columns`` mapped; the baselines read no products) and the cut-off."""
    tx = validate_transactions(map_frames(columns, transactions=transactions, products=products)["transactions"],
                               allow_missing_amount=True)
    if as_of is None:
        as_of = tx["timestamp"].max() + pd.Timedelta(seconds=1)
    as_of = check_as_of(as_of, owner)
    return purchase_rows(history_before(tx, as_of)), as_of


def _popular(tx: pd.DataFrame, as_of: pd.Timestamp, window_days: int, owner: str) -> pd.Series:
    """Distinct buyers per product in the window before ``as_of``, best first (ties: product order); an
    :class:`~crmml.exceptions.InsufficientDataWarning` when nothing was bought in the window."""
    recent = tx[tx["timestamp"] >= as_of - pd.Timedelta(days=window_days)]
    counts = recent.drop_duplicates(["customer_id", "product_id"])["product_id"].value_counts()
    if counts.empty:
        warnings.warn(f"{owner}.fit: no purchase (a row with amount >= 0) in the {window_days} days before as_of "
                      f"({as_of}), so no product is popular and the lists that popularity fills are empty; use a "
                      "cut-off within the data or a longer window_days.", InsufficientDataWarning, stacklevel=3)
    return counts.sort_values(ascending=False, kind="stable")


def _check_frame(v, name: str, columns) -> pd.DataFrame:
    """A DataFrame holding ``columns`` (for the ``_check_loaded_state`` hooks below)."""
    if not isinstance(v, pd.DataFrame) or not set(columns) <= set(v.columns):
        raise ValueError(f"{name} must be a DataFrame with the columns {list(columns)}; it is {type(v).__name__}"
                         f"{' with ' + str(list(v.columns)[:8]) if isinstance(v, pd.DataFrame) else ''}.")
    return v


def _check_popular(popular) -> None:
    """``popular_``: buyer counts (integers >= 0) of distinct products, best first."""
    if not isinstance(popular, pd.Series) or not popular.index.is_unique:
        raise ValueError("popular_ must be a Series of buyer counts indexed by distinct products.")
    check_codes(popular.to_numpy(), "popular_", 0, None)
    if np.any(np.diff(popular.to_numpy()) > 0):
        raise ValueError("popular_ must be sorted, most buyers first.")


class PopularityBaseline(BaseEstimator):
    """Everybody gets the products with most distinct buyers in the last ``window_days``.

    With ``exclude_bought=True`` each customer's list skips what they bought
    before (the fair baseline for new-product recommendations). An id requested
    twice is answered once, as in :meth:`NextBestOffer.recommend`.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 3], "timestamp": pd.to_datetime(["2024-01-01"] * 3),
    ...                    "amount": 5.0, "product_id": ["a", "b", "b"]})
    >>> PopularityBaseline().fit(tx).recommend([7], k=1)["product_id"].tolist()
    ['b']
    >>> PopularityBaseline(exclude_bought=True).fit(tx).recommend([2], k=1)["product_id"].tolist()
    ['a']
    """

    def __init__(self, *, window_days=30, exclude_bought=False):
        self.window_days = window_days
        self.exclude_bought = exclude_bought

    def fit(self, transactions, products=None, *, as_of=None, columns=None):
        """Products by distinct buyers in the ``window_days`` before ``as_of`` (``products`` is ignored;
        ``columns`` as in :meth:`crmml.recommend.NextBestOffer.fit`)."""
        check_number(self.window_days, "window_days", "PopularityBaseline", low=1, high=MAX_WINDOW_DAYS)
        tx, as_of = _prepare(transactions, products, as_of, "PopularityBaseline", columns)
        self.popular_ = _popular(tx, as_of, self.window_days, "PopularityBaseline")
        self.bought_ = (tx[["customer_id", "product_id"]].drop_duplicates().reset_index(drop=True)
                        if self.exclude_bought else None)
        self.as_of_ = as_of.isoformat()
        return self

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load``: popularity counts and the bought table are usable."""
        if not fitted_attrs(self, ("popular_", "bought_")):
            return
        _check_popular(self.popular_)
        if self.bought_ is not None:
            _check_frame(self.bought_, "bought_", ("customer_id", "product_id"))

    def recommend(self, customers, k=10):
        """Top-``k`` popular products per customer as a long frame.

        Parameters
        ----------
        customers : array-like
            Customer ids, in the order wanted (a repeated id is listed once). Without
            ``exclude_bought`` every id gets the same list, so any id is taken as given.
            With it, ids are converted to the fitted id type as in
            :meth:`crmml.recommend.NextBestOffer.recommend` (ids that cannot be converted
            raise :class:`crmml.exceptions.IdTypeError`); a customer unseen in ``fit``
            has bought nothing to skip and gets the plain popular list, without a warning.
        k : int, default=10

        Returns
        -------
        DataFrame
            ``customer_id, rank, product_id, score, reason``; ranks start at 1. ``score``
            is the product's number of distinct buyers in the ``window_days`` before
            ``as_of``; equal counts rank in the order the products first appear in the
            transactions. Customers are in the order given, each at most ``k`` rows (fewer
            when fewer products were bought in the window, less those the customer bought
            before).

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": [1, 2, 3], "timestamp": pd.to_datetime(["2024-01-01"] * 3),
        ...                    "amount": 5.0, "product_id": ["a", "b", "b"]})
        >>> PopularityBaseline().fit(tx).recommend([7, 2], k=2)
          customer_id  rank product_id  score                       reason
        0           7     1          b    2.0  popular in the last 30 days
        1           7     2          a    1.0  popular in the last 30 days
        2           2     1          b    2.0  popular in the last 30 days
        3           2     2          a    1.0  popular in the last 30 days
        >>> PopularityBaseline(exclude_bought=True).fit(tx).recommend(["2"], k=2)[["customer_id", "product_id"]]
           customer_id product_id
        0            2          a
        """
        check_is_fitted(self, "popular_")
        check_number(k, "k", "PopularityBaseline.recommend", low=1, high=MAX_K)
        if self.bought_ is None:   # everyone gets the same list: no id is unknown
            ids = np.asarray(pd.unique(pd.Series(customers, dtype=object)))
        else:
            ids = customer_ids_like(customers, pd.Index(self.bought_["customer_id"].unique()),
                                    "PopularityBaseline.recommend", warn_unknown=False)
        reason = f"popular in the last {self.window_days} days"
        if self.bought_ is None:
            top = self.popular_.head(k)
            cust = np.repeat(ids, len(top))
            return recommendation_frame(cust, np.tile(np.arange(1, len(top) + 1), len(ids)),
                                        np.tile(top.index.to_numpy(), len(ids)),
                                        np.tile(top.to_numpy(), len(ids)), np.full(len(cust), reason))
        bought = self.bought_[self.bought_["customer_id"].isin(ids)]
        top = self.popular_.head(k + int(bought.groupby("customer_id").size().max() if len(bought) else 0))
        cand = pd.DataFrame({"customer_id": np.repeat(ids, len(top)), "product_id": np.tile(top.index.to_numpy(),
                             len(ids)), "score": np.tile(top.to_numpy(), len(ids)).astype(float)})
        cand = cand.merge(bought.assign(_b=True), on=["customer_id", "product_id"], how="left")
        cand = cand[cand["_b"].isna()].groupby("customer_id", sort=False).head(k)
        rows = pd.Index(ids).get_indexer(cand["customer_id"])
        return recommendation_frame(cand["customer_id"].to_numpy(), ranks(rows), cand["product_id"].to_numpy(),
                                    cand["score"].to_numpy(), np.full(len(cand), reason))


class PastPurchasesBaseline(BaseEstimator):
    """The customer's own past products, most purchase occasions first (ties: most recent).

    With ``fill_popular=True`` (default) a list shorter than ``k`` is filled with
    recent popular products, which makes this a stronger, fairer baseline. An id
    requested twice is answered once, as in :meth:`NextBestOffer.recommend`.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "amount": 5.0, "product_id": ["a", "b", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"])})
    >>> PastPurchasesBaseline(fill_popular=False).fit(tx).recommend([1], k=2)["product_id"].tolist()
    ['b', 'a']
    """

    def __init__(self, *, fill_popular=True, window_days=30):
        self.fill_popular = fill_popular
        self.window_days = window_days

    def fit(self, transactions, products=None, *, as_of=None, columns=None):
        """Each customer's products before ``as_of`` (``products`` is ignored; ``columns`` as in
        :meth:`crmml.recommend.NextBestOffer.fit`)."""
        check_number(self.window_days, "window_days", "PastPurchasesBaseline", low=1, high=MAX_WINDOW_DAYS)
        tx, as_of = _prepare(transactions, products, as_of, "PastPurchasesBaseline", columns)
        key = tx["transaction_id"] if "transaction_id" in tx.columns else tx["timestamp"]
        occ = pd.DataFrame({"customer_id": tx["customer_id"].to_numpy(), "product_id": tx["product_id"].to_numpy(),
                            "occ": key.to_numpy(), "ts": tx["timestamp"].to_numpy()})
        g = occ.groupby(["customer_id", "product_id"], sort=False).agg(n=("occ", "nunique"), last=("ts", "max"))
        g = g.reset_index().sort_values(["customer_id", "n", "last"], ascending=[True, False, False],
                                        kind="stable")
        self.history_ = g[["customer_id", "product_id", "n"]].reset_index(drop=True)
        self.customers_ = pd.Index(pd.unique(tx["customer_id"]), name="customer_id")
        self.popular_ = _popular(tx, as_of, self.window_days, "PastPurchasesBaseline")
        self.as_of_ = as_of.isoformat()
        return self

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load``: history, customers and popularity counts are usable."""
        if not fitted_attrs(self, ("history_", "customers_", "popular_")):
            return
        history = _check_frame(self.history_, "history_", ("customer_id", "product_id", "n"))
        check_codes(history["n"], "history_.n", 0, None)
        if not isinstance(self.customers_, pd.Index) or not self.customers_.is_unique:
            raise ValueError("customers_ must be an Index of distinct customer ids.")
        _check_popular(self.popular_)

    def recommend(self, customers, k=10):
        """Top-``k`` products per customer, their own past products first, as a long frame.

        Parameters
        ----------
        customers : array-like
            Customer ids, in the order wanted (a repeated id is listed once), converted to
            the fitted id type as in :meth:`crmml.recommend.NextBestOffer.recommend`: ids
            that cannot be converted raise :class:`crmml.exceptions.IdTypeError`, and ids
            unseen in ``fit`` issue one :class:`crmml.exceptions.ColdStartWarning` with
            their count: they get the recent popular products, or no rows without
            ``fill_popular``.
        k : int, default=10

        Returns
        -------
        DataFrame
            ``customer_id, rank, product_id, score, reason``; ranks start at 1. Past
            products come first (``reason`` "bought before", ``score`` their number of
            purchase occasions, ties: most recent first); with ``fill_popular`` the list is
            filled with the products with most distinct buyers in the ``window_days``
            before ``as_of`` that the customer has not bought (``reason`` "popular
            recently", ``score`` 0). Customers are in the order given, each at most ``k``
            rows.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "amount": 5.0, "product_id": ["a", "b", "b", "c"],
        ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"])})
        >>> PastPurchasesBaseline().fit(tx).recommend([1], k=3)
           customer_id  rank product_id  score            reason
        0            1     1          b    2.0     bought before
        1            1     2          a    1.0     bought before
        2            1     3          c    0.0  popular recently
        """
        check_is_fitted(self, "history_")
        check_number(k, "k", "PastPurchasesBaseline.recommend", low=1, high=MAX_K)
        unknown_get = "the cold-start list (recent popular products)" if self.fill_popular else \
            "no rows (fill_popular=False)"
        ids = pd.Index(customer_ids_like(customers, self.customers_, "PastPurchasesBaseline.recommend",
                                         unknown_get=unknown_get))
        h = self.history_[self.history_["customer_id"].isin(ids)]
        h = h.assign(rank=h.groupby("customer_id").cumcount() + 1)
        h = h[h["rank"] <= k].assign(score=lambda d: d["n"].astype(float), reason="bought before",
                                     src=0)
        parts = [h]
        if self.fill_popular:
            top = self.popular_.head(k)
            fill = pd.DataFrame({"customer_id": np.repeat(ids.to_numpy(), len(top)),
                                 "product_id": np.tile(top.index.to_numpy(), len(ids)),
                                 "score": 0.0, "reason": "popular recently", "src": 1,
                                 "rank": np.tile(np.arange(1, len(top) + 1), len(ids))})
            parts.append(fill)
        allr = pd.concat(parts, ignore_index=True)
        allr = allr.drop_duplicates(["customer_id", "product_id"], keep="first")
        allr["order"] = ids.get_indexer(allr["customer_id"])
        allr = allr.sort_values(["order", "src", "rank"], kind="stable")
        allr = allr.groupby("order", sort=False).head(k)
        rows = allr["order"].to_numpy()
        return recommendation_frame(allr["customer_id"].to_numpy(), ranks(rows), allr["product_id"].to_numpy(),
                                    allr["score"].to_numpy(), allr["reason"].to_numpy())
