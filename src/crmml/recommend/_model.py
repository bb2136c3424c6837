"""NextBestOffer: co-occurrence + repurchase + popularity ranking under business rules."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmml._utils import (MAX_K, MAX_WINDOW_DAYS, check_as_of, check_in, check_number, check_weights, history_before,
                          progress)
from crmml._utils._state import check_codes, check_csr, check_finite, check_length
from crmml.exceptions import DataError, NoHistoryError
from crmml.recommend._blend import empty_selection, learn_blend
from crmml.recommend._catalogue import catalogue, warn_unofferable
from crmml.recommend._ids import customer_ids_like
from crmml.recommend._matrices import (affinity_matrices, basket_matrix, item_similarity, lookup, occasions,
                                      place_rows, purchase_rows)
from crmml.recommend._ranking import fill_ranking, ranks, recommendation_frame, sparse_top_k, top_k
from crmml.recommend._scoring import dense_scores, fill_scores, history_cells
from crmml.schema import map_frames, validate_transactions

_OWNER = "NextBestOffer"
_MAX_BLOCK_CELLS = 2**27
#: blocks whose history reaches fewer than this share of the cells are ranked sparse (same result, less work)
SPARSE_BELOW = 0.15


class NextBestOffer(BaseEstimator):
    """Top-k offers per customer from item co-occurrence, repurchase and popularity, under business rules.

    Scoring. Each customer's history is a recency-weighted affinity to each
    product: every purchase occasion (a ``transaction_id``; returns never count)
    weighs ``0.5 ** (age_days / half_life_days)``, so a purchase ``half_life_days``
    ago counts half as much as one today. The affinity row is normalised to sum
    to 1 (``a``). A candidate ``j`` scores as a mixture of three next-purchase
    distributions, each summing to 1 over the catalogue::

        score_j = cooccurrence_weight * c_j / sum(c)   # c_j = sum_i a_i sim(i, j):
                                                        # "customers who buy i also buy j"
                  + repurchase_weight * a_j            # the customer's own repeat purchases
                  + popularity_weight * pop_j / sum(pop)  # recent popularity

    then multiplied by ``value ** value_weight`` when ``value_column`` is set
    (e.g. margin: expected margin instead of relevance). ``sim`` is item-to-item
    similarity from co-occurrence in baskets (``cosine``, ``lift`` or
    association-rule ``confidence``), pruned to the ``n_neighbors`` most similar
    items per item, kept as a ``scipy.sparse`` matrix.

    Business rules (each applied to every recommended row): ``exclude_recent_days``
    (nothing bought in that many days before ``as_of``), ``repurchase="never"``
    (nothing the customer ever bought), ``eligible`` (boolean columns of the
    products frame that must all be true; with a products frame, only listed
    products are offered), ``max_per_category``. Only items with a positive score
    are offered, so a list may be shorter than ``k``.

    Repurchase is on by default: for consumables and gift retailers it is often
    the strongest signal (see :func:`evaluate_recommendations`). For durables use
    ``repurchase="never"``.

    Parameters
    ----------
    similarity : {"cosine", "lift", "confidence"}, default="cosine"
    basket : {"transaction", "customer"}, default="transaction"
        Co-occurrence unit: items in the same purchase occasion, or ever bought
        by the same customer.
    n_neighbors : int, default=50
        Similar items kept per item.
    min_support : int, default=2
        Minimum number of baskets a pair must share.
    min_confidence : float, default=0.0
        Minimum rule confidence (``similarity="confidence"`` only).
    half_life_days : float, default=90.0
        Half-life of the recency weighting of a customer's purchases; with ``blend="auto"`` one of the
        candidates ``fit`` validates (with 30, 90, 365 and 3650 days), ``half_life_days_`` is the one used.
    repurchase : {"allow", "never"}, default="allow"
    cooccurrence_weight, repurchase_weight : float, default=1.0
    popularity_weight : float, default=0.5
        Mixture weights of the three components (only their ratios matter); with ``blend="auto"`` they are
        one of the candidates ``fit`` validates.
    blend : {"auto", "fixed"}, default="auto"
        ``"auto"``: ``fit`` holds out the last ``blend_validation_days`` of the history, fits on the rest and
        keeps the weighting with the best precision@10 on what those customers bought in the held-out days,
        among the configured weights, each component alone and a fixed grid of blends
        (``crmml.recommend._blend``), then the recency half-life for those weights; ``blend_selection_`` shows
        every candidate. ``"fixed"``: the configured weights and half-life.
    blend_validation_days : int, default=30
    popularity_window_days : int, default=30
        Popularity = distinct buyers in this many days before ``as_of``.
    exclude_recent_days : int, default=0
        Never offer what the customer bought in this many days before ``as_of``
        (0 = off).
    eligible : str or list of str, optional
        Boolean columns of the products frame; a product is offered only if all are true (a missing flag
        is not true: ``fit`` warns with the count, :class:`crmml.exceptions.DroppedCustomersWarning`).
    value_column : str, optional
        Numeric products column (e.g. ``"margin"``) to weight scores with; a product without a value is
        never offered (``fit`` warns with the count).
    value_weight : float, default=1.0
        Exponent of the value weighting.
    max_per_category : int, optional
        At most this many offers per category and customer (needs ``category``
        in the products frame or in the transactions). A product without a
        category (missing in the products frame, or in every transaction line
        of it) belongs to no category and is never capped.
    batch_size : int, default=1000
        Customers scored per dense block, in [1, 100000]; blocks are also capped at
        2**27 cells (0.5 GB of float32 scores) whatever the catalogue size.
    n_jobs : int, default=1
        Threads that score blocks of customers at once in ``recommend`` (numpy releases the GIL in the heavy
        array work); -1 uses every core. The recommendations are identical for any value: each block is scored on
        its own and the blocks are kept in order. ``crmml score`` uses every core (``--n-jobs``). With
        ``blend="auto"`` and ``n_jobs != 1``, ``fit`` learns the blend (its own inner fit) on a second thread
        while it fits on the whole history: the same model either way.
    verbose : bool, default=False

    Attributes
    ----------
    items_ : Index
        Product ids (columns of every matrix).
    customers_ : Index
        Customer ids (rows of the customer matrices).
    similarity_ : csr_matrix
        Items x items.
    weights_ : ndarray
        (cooccurrence, repurchase, popularity, frequency) weights used to score (learned when
        ``blend="auto"``; frequency, the raw count of past purchases, is used only by the past-purchases
        candidate).
    blend_selection_ : DataFrame
        Per candidate weighting and half-life: the weights, ``half_life_days``, validation ``precision`` and
        ``map`` at 10, ``chosen``.
    half_life_days_ : float
        The recency half-life of ``affinity_``: learned when ``blend="auto"``, else ``half_life_days``.
    blend_validation_ : str
        How the weights were chosen.
    affinity_, n_purchases_, last_age_ : csr_matrix
        Customers x items: recency-weighted affinity, purchase occasions, days since last purchase plus one.
    popularity_ : ndarray
        Distinct buyers per item in the popularity window.
    eligible_ : ndarray of bool
        Per item: may be offered.
    value_ : ndarray of float
        Per item: the ``value_column`` (NaN without one).
    category_codes_ : ndarray of int
        Per item: index into ``categories_`` (-1 when unknown).
    categories_ : list of str
    descriptions_ : ndarray of str
    as_of_ : str
        The cutoff the model was fitted at (ISO format).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3, 3, 4], "transaction_id": [1, 1, 2, 2, 3, 3, 4],
    ...     "timestamp": pd.to_datetime(["2024-01-01"] * 7), "amount": 10.0,
    ...     "product_id": ["tea", "mug", "tea", "mug", "tea", "cake", "tea"]})
    >>> nbo = NextBestOffer(repurchase="never").fit(tx)
    >>> nbo.recommend([4], k=1)[["customer_id", "rank", "product_id"]]
       customer_id  rank product_id
    0            4     1        mug
    """

    def __init__(self, *, similarity="cosine", basket="transaction", n_neighbors=50, min_support=2,
                 min_confidence=0.0, half_life_days=90.0, repurchase="allow", cooccurrence_weight=1.0,
                 repurchase_weight=1.0, popularity_weight=0.5, popularity_window_days=30, exclude_recent_days=0,
                 eligible=None, value_column=None, value_weight=1.0, max_per_category=None, batch_size=1000,
                 blend="auto", blend_validation_days=30, n_jobs=1, verbose=False):
        self.similarity = similarity
        self.basket = basket
        self.n_neighbors = n_neighbors
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.half_life_days = half_life_days
        self.repurchase = repurchase
        self.cooccurrence_weight = cooccurrence_weight
        self.repurchase_weight = repurchase_weight
        self.popularity_weight = popularity_weight
        self.popularity_window_days = popularity_window_days
        self.exclude_recent_days = exclude_recent_days
        self.eligible = eligible
        self.value_column = value_column
        self.value_weight = value_weight
        self.max_per_category = max_per_category
        self.batch_size = batch_size
        self.blend = blend
        self.blend_validation_days = blend_validation_days
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        o = _OWNER
        check_in(self.similarity, "similarity", o, ("cosine", "lift", "confidence"))
        check_in(self.basket, "basket", o, ("transaction", "customer"))
        check_in(self.repurchase, "repurchase", o, ("allow", "never"))
        check_number(self.min_support, "min_support", o, low=1)
        check_number(self.min_confidence, "min_confidence", o, kind="float", low=0, high=1)
        check_number(self.half_life_days, "half_life_days", o, kind="float", low=0, high=MAX_WINDOW_DAYS,
                     low_inclusive=False)
        check_number(self.cooccurrence_weight, "cooccurrence_weight", o, kind="float", low=0)
        check_number(self.repurchase_weight, "repurchase_weight", o, kind="float", low=0)
        check_number(self.popularity_weight, "popularity_weight", o, kind="float", low=0)
        check_number(self.popularity_window_days, "popularity_window_days", o, low=1, high=MAX_WINDOW_DAYS)
        check_number(self.exclude_recent_days, "exclude_recent_days", o, low=0, high=MAX_WINDOW_DAYS)
        check_number(self.value_weight, "value_weight", o, kind="float", low=0)
        if self.max_per_category is not None:
            check_number(self.max_per_category, "max_per_category", o, low=1)
        check_number(self.batch_size, "batch_size", o, low=1, high=100_000)
        check_number(self.n_neighbors, "n_neighbors", o, low=1)
        check_in(self.blend, "blend", o, ("auto", "fixed"))
        check_number(self.blend_validation_days, "blend_validation_days", o, low=1, high=MAX_WINDOW_DAYS)
        if self.n_jobs != -1:
            check_number(self.n_jobs, "n_jobs", o, low=1, high=1024)

    def fit(self, transactions, products=None, *, as_of=None, columns=None):
        """Learn item similarities, popularity and each customer's affinity from history before ``as_of``.

        Parameters
        ----------
        transactions : DataFrame
            Standard transactions with ``product_id`` (``transaction_id``,
            ``category`` and ``description`` used when present).
        products : DataFrame, optional
            Products/offers frame (``product_id``; ``category``, ``price``,
            ``margin``, ``description``, eligibility columns).
        as_of : timestamp, optional
            Only rows with ``timestamp < as_of`` are read; default: one second
            after the last transaction.
        columns : dict, optional
            Your column names -> canonical names, applied to every frame given (or one dict per frame name,
            e.g. ``{"products": {...}}``); see :func:`crmml.schema.map_frames`.
        """
        self._check_params()
        f = map_frames(columns, transactions=transactions, products=products)
        products = f["products"]
        tx = validate_transactions(f["transactions"], allow_missing_amount=True)
        if "product_id" not in tx.columns:
            raise DataError("NextBestOffer needs a 'product_id' column in transactions.")
        if as_of is None:
            as_of = tx["timestamp"].max() + pd.Timedelta(seconds=1)
        as_of = check_as_of(as_of, _OWNER)
        tx = purchase_rows(history_before(tx, as_of))
        if len(tx) == 0:
            raise NoHistoryError(f"NextBestOffer found no purchases before as_of={as_of}.")
        self._fit_purchases(tx, products, as_of)
        warn_unofferable(products, self.eligible, self.value_column)
        return self

    def _fit_purchases(self, tx, products, as_of, affinity_customers=None):
        """``fit`` on validated purchase rows; with ``affinity_customers`` the customer matrices hold only their
        rows, each equal to a whole fit's (the others empty: what the blend's inner fit needs)."""
        cat = catalogue(tx, products, eligible=self.eligible, value_column=self.value_column,
                        need_category=self.max_per_category is not None)
        self.items_ = cat["items"]
        self.eligible_, self.value_ = cat["eligible"], cat["value"]
        self.category_codes_, self.categories_ = cat["category_codes"], cat["categories"]
        self.descriptions_ = cat["descriptions"]
        self.customers_ = pd.Index(pd.unique(tx["customer_id"]), name="customer_id")
        learning = None
        if self.blend == "auto" and self.n_jobs != 1 and (os.cpu_count() or 1) > 1:
            # the blend is learned on its own inner fit (nothing shared): on a second thread beside this fit
            pool = ThreadPoolExecutor(1)
            learning = pool.submit(learn_blend, self, tx, products, as_of, self.blend_validation_days)
            pool.shutdown(wait=False)
        occ = occasions(tx, self.items_, self.customers_)
        as_of_ns = int(as_of.value)
        self.similarity_ = item_similarity(
            basket_matrix(occ, self.basket, len(self.items_)), self.similarity,
            min_support=self.min_support, min_confidence=float(self.min_confidence), n_neighbors=self.n_neighbors)
        window = occ[occ["ts"] >= as_of_ns - self.popularity_window_days * 86_400 * 10**9]
        buyers = window.drop_duplicates(["c", "i"])["i"].to_numpy()
        self.popularity_ = np.bincount(buyers, minlength=len(self.items_)).astype(np.float64)
        self.as_of_ = as_of.isoformat()
        if self.blend == "auto":
            w, self.half_life_days_, self.blend_selection_, self.blend_validation_ = (
                learning.result() if learning is not None
                else learn_blend(self, tx, products, as_of, self.blend_validation_days))
        else:
            w = (self.cooccurrence_weight, self.repurchase_weight, self.popularity_weight, 0.0)
            self.blend_selection_, self.half_life_days_ = empty_selection(), float(self.half_life_days)
            self.blend_validation_ = "fixed: the configured weights"
        self.weights_ = np.asarray(w, dtype=np.float64)
        if affinity_customers is not None:      # a customer's rows depend only on that customer's occasions
            occ = occ[np.isin(occ["c"].to_numpy(), self.customers_.get_indexer(affinity_customers))]
        self.affinity_, self.n_purchases_, self.last_age_ = affinity_matrices(
            occ, as_of_ns, self.half_life_days_, (len(self.customers_), len(self.items_)))
        return self

    def _weights(self):
        """(cooccurrence, repurchase, popularity, frequency) used to score: learned in fit, or the parameters.

        ``frequency`` weighs the raw count of the customer's purchase occasions of the item (the past-purchases
        order); it is 0 unless ``blend="auto"`` chose that candidate.
        """
        w = getattr(self, "weights_", None)       # absent from files saved before the blend was learned
        if w is None:
            return self.cooccurrence_weight, self.repurchase_weight, self.popularity_weight, 0.0
        return float(w[0]), float(w[1]), float(w[2]), (float(w[3]) if len(w) > 3 else 0.0)

    def _check_loaded_state(self):
        """Shapes and index ranges of the fitted arrays agree (called by ``crmml.persistence.load``)."""
        check_is_fitted(self, "similarity_")
        self._check_params()
        n_items, n_cust = len(self.items_), len(self.customers_)
        check_csr(self.similarity_, "similarity_", (n_items, n_items))
        for name in ("affinity_", "n_purchases_", "last_age_"):
            check_csr(getattr(self, name), name, (n_cust, n_items))
        for name in ("popularity_", "eligible_", "value_", "descriptions_"):
            check_length(getattr(self, name), name, n_items)
        check_finite(self.popularity_, "popularity_", shape=(n_items,), low=0)
        check_codes(self.category_codes_, "category_codes_", -1, len(self.categories_), n_items)
        if np.asarray(self.eligible_).dtype != bool:
            raise ValueError("eligible_ must be a boolean array.")
        h = getattr(self, "half_life_days_", None)       # absent from files saved before it was learned
        if h is not None and not (isinstance(h, float) and 0 < h <= MAX_WINDOW_DAYS):  # NaN fails too
            raise ValueError(f"half_life_days_ must be a float in (0, {MAX_WINDOW_DAYS}]; it is {h!r:.40}.")
        w = getattr(self, "weights_", None)
        if w is not None and not (np.shape(w) in ((3,), (4,)) and np.isfinite(w).all()
                                  and (np.asarray(w) >= 0).all()):
            raise ValueError("weights_ must be 3 or 4 finite non-negative numbers.")

    # ------------------------------------------------------------------ scoring
    def _normalised_affinity(self, rows: np.ndarray) -> sp.csr_matrix:
        """Affinity rows summing to 1 (float32) for customer rows; -1 (unknown) gives an empty row."""
        known = rows >= 0
        sub = self.affinity_[rows[known]]
        tot = np.asarray(sub.sum(axis=1)).ravel()
        sub = (sp.diags(1.0 / np.where(tot > 0, tot, 1.0)) @ sub).astype(np.float32)
        return place_rows(sub.tocsr(), known)

    def _block_cells(self, a: sp.csr_matrix, rows: np.ndarray, sim, pop: np.ndarray, value) -> sp.csr_matrix:
        """The block's scores where the history reaches (``crmml.recommend._scoring``); -inf where a rule
        forbids the offer. Every other cell scores the shared fill row."""
        weights = self._weights()
        counts = banned = None
        if weights[3] > 0:
            seen = rows >= 0
            counts = place_rows(self.n_purchases_[rows[seen]].tocsr(), seen)
        known = rows >= 0
        if known.any() and (self.repurchase == "never" or self.exclude_recent_days > 0):
            age = place_rows(self.last_age_[rows[known]].tocsr(), known)
            ban = age.data > 0
            if self.repurchase != "never":
                ban &= age.data - 1.0 < self.exclude_recent_days
            age.data = ban
            age.eliminate_zeros()
            banned = age
        return history_cells(a, sim, weights, pop, value, counts=counts, banned=banned, eligible=self.eligible_)

    def recommend(self, customers=None, k=10, *, customer_weights=None, reasons=True):
        """Top-``k`` offers per customer as a long frame.

        Parameters
        ----------
        customers : array-like, optional
            Customer ids; default all customers seen in ``fit``. Ids are converted to
            the fitted id type by the schema's rule (integer-valued ids are integers,
            so ``"17"`` and ``17.0`` find customer 17); ids that cannot be converted
            raise :class:`crmml.exceptions.IdTypeError`. Unknown customers get recent
            popular products (cold start), with a :class:`crmml.exceptions.ColdStartWarning`
            giving their count. An id given twice (``1`` and ``"1"`` too) is answered once,
            at its first position.
        k : int, default=10
        customer_weights : Series, optional
            Per-customer multiplier indexed by ``customer_id`` (e.g. predicted
            CLV), so scores compare across customers when choosing whom to
            contact; it never changes a customer's own ranking. Missing = 1.
        reasons : bool, default=True
            Build the readable ``reason`` strings (empty strings when false).

        Returns
        -------
        DataFrame
            ``customer_id, rank, product_id, score, reason``; ranks start at 1.
            Customers are in the order given, each at most ``k`` rows. Equal scores rank
            in product order (the order of ``items_``).
        """
        check_is_fitted(self, "similarity_")
        check_number(k, "k", "NextBestOffer.recommend", low=1, high=MAX_K)
        ids = (self.customers_.to_numpy() if customers is None
               else customer_ids_like(customers, self.customers_, "NextBestOffer.recommend"))
        rows_all = self.customers_.get_indexer(pd.Index(ids)) if len(ids) else np.empty(0, np.int64)
        value = None
        if self.value_column is not None:
            value = (np.where(np.isnan(self.value_), 0.0, self.value_) ** self.value_weight).astype(np.float32)
        cats = self.category_codes_ if self.max_per_category is not None else None
        pop_tot = self.popularity_.sum()
        pop = (self._weights()[2] * self.popularity_ / (pop_tot if pop_tot > 0 else 1.0)).astype(np.float32)
        sim = self.similarity_.astype(np.float32).tocsr()
        sim.sort_indices()
        threads = (os.cpu_count() or 1) if self.n_jobs == -1 else int(self.n_jobs)
        # the 2**27-cell cap holds for all the blocks scored at once
        block = max(1, min(self.batch_size, _MAX_BLOCK_CELLS // max(len(self.items_) * threads, 1)))
        starts = range(0, len(ids), block)

        fill = fill_scores(pop, value, self.eligible_)
        fill_order = fill_ranking(fill)

        def one(s):
            rows = rows_all[s:s + block]
            a = self._normalised_affinity(rows)
            cells = self._block_cells(a, rows, sim, pop, value)
            if cells.nnz <= SPARSE_BELOW * cells.shape[0] * cells.shape[1]:
                r, c, sc = sparse_top_k(cells, fill, k, cats, self.max_per_category, fill_order)
            else:               # dense enough: walk the dense block
                score = dense_scores(cells, fill)
                r, c = top_k(score, k, cats, self.max_per_category)
                sc = score[r, c]
            sc = sc.astype(np.float64)
            reason = self._reasons(a, sim, rows, r, c, sc, pop, value) if reasons else np.full(len(r), "", object)
            return s + r, c, sc, reason

        if threads > 1 and len(starts) > 1:
            with ThreadPoolExecutor(min(threads, len(starts))) as pool:   # map keeps the blocks in order
                out = list(progress(pool.map(one, starts), verbose=self.verbose, desc="recommend",
                                    total=len(starts)))
        else:
            out = [one(s) for s in progress(starts, verbose=self.verbose, desc="recommend", total=len(starts))]
        cat = (lambda i, empty: np.concatenate([o[i] for o in out]) if out else empty)  # noqa: E731
        r, c = cat(0, np.empty(0, np.int64)), cat(1, np.empty(0, np.int64))
        sc, reason = cat(2, np.empty(0)), cat(3, np.empty(0, dtype=object))
        if customer_weights is not None:
            cw = pd.Series(customer_weights)      # numbers (NaN = missing = 1), or a ParameterError naming it
            w = pd.Series(check_weights(cw, "customer_weights", "NextBestOffer.recommend", negative=True, missing=True),
                          cw.index).reindex(ids[r]).fillna(1.0).to_numpy(dtype=float)
            sc = sc * w
        return recommendation_frame(ids[r], ranks(r), self.items_[c], sc, reason)

    def _reasons(self, a, sim, rows, r, c, score, pop, value) -> np.ndarray:
        """Readable reason per chosen (row, item): the score component contributing most."""
        desc = self.descriptions_.astype(object)
        _, w_rep, _, w_freq = self._weights()
        rep = w_rep * lookup(a, r, c)
        if w_freq > 0:      # the count of past purchases is a repurchase reason too (unknown rows have none)
            seen = rows[r] >= 0
            rep = rep + w_freq * lookup(self.n_purchases_[np.maximum(rows, 0)], r, c) * seen
        base = score / value[c] if value is not None else score
        popc = pop[c].astype(np.float64)
        parts = np.stack([base - rep - popc, rep, popc], axis=1)
        kind = parts.argmax(axis=1)
        text = np.empty(len(r), dtype=object)
        co = np.nonzero(kind == 0)[0]
        if len(co):
            src = _top_source(a, sim, r[co], c[co])
            text[co] = [f"bought {x}; customers who buy {x} also buy {y}" for x, y in zip(desc[src], desc[c[co]])]
        rp = np.nonzero(kind == 1)[0]
        if len(rp):
            block = np.maximum(rows, 0)  # rows with a repurchase reason are known customers
            n = lookup(self.n_purchases_[block], r[rp], c[rp])
            age = lookup(self.last_age_[block], r[rp], c[rp]) - 1.0
            text[rp] = [f"bought {x} {times}, last {ago}" for x, times, ago in zip(
                desc[c[rp]], _labels(n, lambda m: _plural(m, "time")), _labels(age, _ago))]
        pp = np.nonzero(kind == 2)[0]
        if len(pp):
            window = self.popularity_window_days
            text[pp] = [f"{x} is popular: {buyers} in the last {window} days" for x, buyers in zip(
                desc[c[pp]], _labels(self.popularity_[c[pp]], lambda m: _plural(m, "buyer")))]
        return text


def _labels(values: np.ndarray, fmt) -> np.ndarray:
    """``fmt`` of each whole number in ``values``, formatted once per distinct value (object array)."""
    u, inv = np.unique(np.floor(values).astype(np.int64), return_inverse=True)
    return np.array([fmt(x) for x in u], dtype=object)[inv]


def _plural(n, word: str) -> str:
    return f"{int(n)} {word}{'' if int(n) == 1 else 's'}"


def _ago(days: float) -> str:
    return "today" if days < 1 else f"{_plural(days, 'day')} ago"


def _top_source(a: sp.csr_matrix, sim: sp.csr_matrix, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """For each (customer row, candidate), the bought item ``i`` maximising ``a[r, i] * sim[i, c]``."""
    lo, hi = a.indptr[r], a.indptr[r + 1]
    length = hi - lo
    seg = np.repeat(np.arange(len(r)), length)
    pos = np.repeat(lo - np.cumsum(length) + length, length) + np.arange(length.sum())
    items = a.indices[pos]
    contrib = a.data[pos] * lookup(sim, items, c[seg])
    best = np.full(len(r), -1.0)
    np.maximum.at(best, seg, contrib)
    is_best = np.nonzero(contrib == best[seg])[0]
    first = np.unique(seg[is_best], return_index=True)[1]
    out = np.zeros(len(r), dtype=np.int64)
    out[seg[is_best[first]]] = items[is_best[first]]
    return out
