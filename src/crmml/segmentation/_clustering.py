"""Behavioural clustering of customers with an automatic number of clusters, readable profiles and a tree
that explains membership as if-then rules."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from crmml._utils import check_in, check_names, check_number, progress
from crmml._utils._sklearn import FrameOutputMixin
from crmml._utils._state import check_codes, check_finite, check_str_list, fitted_attrs
from crmml.exceptions import DataError, InsufficientDataWarning, ParameterError
from crmml.segmentation._assign import _assign

__all__ = ["CustomerClusterer", "DEFAULT_NAME_VOCABULARY"]

#: Words for cluster names: feature -> (word when the cluster is low, word when high[, "noun"]); override with
#: ``vocabulary=``.
DEFAULT_NAME_VOCABULARY: dict = {
    # feature: (word when the cluster is low, word when high[, "noun"])
    "recency": ("recent", "lapsed"),
    "frequency": ("infrequent", "frequent"),
    "monetary": ("low spenders", "high spenders", "noun"),
    "avg_order_value": ("small-basket", "big-basket"),
    "tenure": ("new", "long-standing"),
    "returns": ("", "high-return"),
}
"""Words used to name clusters from their z-scores (merge your own with ``vocabulary=``). A feature absent from
the vocabulary goes into a trailing clause ("customers with high web_visits and low complaints"); an empty word
leaves the feature out of names."""

_OWNER = "CustomerClusterer"
_GMM_MAX_FIT = 200_000  # the final mixture is fitted on at most this many customers (seeded sample)


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


class CustomerClusterer(FrameOutputMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """Cluster customers on behavioural features, choose k automatically and describe each cluster.

    Pipeline: each feature is put on a log scale (``sign(x) * log1p(|x|)``, so skewed spend and counts do not
    dominate and net-negative values are allowed), then robust-scaled (median and inter-quartile range; the
    standard deviation where the IQR is 0, e.g. frequency when most customers bought once). KMeans by default
    (``method="gmm"`` for a full-covariance Gaussian mixture).

    Choosing k (``n_clusters="auto"``): on one seeded random sample of ``sample_size`` customers, a model is fitted
    for each k in ``k_range`` and scored by the mean silhouette (KMeans; highest wins) or by BIC (mixture; lowest
    wins); the final model with the chosen k is then fitted on all customers (the mixture on a seeded sample of at
    most 200,000, as EM with full covariances is slow on millions of rows; every customer is then assigned).
    Scores are kept in ``k_scores_``.
    The default range starts at 3 because silhouette favours k=2, which is rarely actionable.

    Profiles: per cluster the size, share, revenue share, mean of each feature (original units) and z-scores
    against the whole base, computed on the log scale the clustering uses. Names come from z-scores: features with
    ``|z| >= name_threshold`` (at most ``max_name_terms``, strongest first) give words from the vocabulary, for
    example "recent frequent high spenders" or "lapsed low spenders", prefixed with "very" when
    ``|z| >= 3 * name_threshold``; a cluster with none is "average customers". Names that would repeat get more,
    weaker terms, then a number.
    Clusters are numbered by decreasing mean revenue (``revenue`` column), else by decreasing size.

    Explanation: a decision tree of depth ``tree_depth`` is fitted on the original features to predict the
    cluster; ``rules()`` lists its leaves as if-then rules and ``fidelity_`` is its agreement with the clusters.

    Parameters
    ----------
    features : list of str, optional
        Columns to cluster on; default all numeric columns. Any frame indexed by customer_id works (an RFM table,
        ``crmml.features`` output, your own).
    n_clusters : int or "auto", default="auto"
    k_range : tuple of int, default=(3, 8)
        Inclusive range of k searched when ``n_clusters="auto"``.
    method : {"kmeans", "gmm"}, default="kmeans"
    log_transform : bool, default=True
    sample_size : int, default=3000
        Customers sampled to choose k (silhouette is quadratic in the sample size).
    n_init : int, default=3
        Restarts of each KMeans / mixture fit.
    tree_depth : int, default=3
    name_threshold : float, default=0.5
    max_name_terms : int, default=3
    vocabulary : dict, optional
        Merged over :data:`DEFAULT_NAME_VOCABULARY`: feature -> (word when low, word when high[, "noun"]); a
        ParameterError names any other entry.
    revenue : str or None, default="monetary"
        Column of the frame used for revenue share and cluster order (it need not be a clustering feature).
    random_state : int, default=0
    verbose : bool, default=False
        Show a progress bar over the k searched.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    center_, scale_ : ndarray
        Robust-scaling parameters on the log scale.
    n_clusters_ : int
    k_scores_ : Series
        Silhouette (KMeans) or BIC (mixture) per k searched (empty when k is fixed).
    model_ : KMeans or GaussianMixture
    label_map_ : ndarray
        Model label -> crmml cluster number.
    labels_ : Series
        Cluster of each customer seen in ``fit``.
    profiles_ : DataFrame
        Per cluster: ``name``, ``size``, ``share``, ``revenue_share`` and the feature means.
    zscores_ : DataFrame
        Per cluster and feature, z-score against the whole base (log scale).
    names_ : list of str
    tree_ : DecisionTreeClassifier
    fidelity_ : float
        Share of customers whose cluster the tree predicts correctly.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"recency": np.r_[rng.uniform(1, 30, 100), rng.uniform(200, 400, 100)],
    ...                   "frequency": np.r_[rng.poisson(8, 100) + 1, np.ones(100)],
    ...                   "monetary": np.r_[rng.gamma(5, 100, 100), rng.gamma(2, 20, 100)]},
    ...                  index=pd.RangeIndex(200, name="customer_id"))
    >>> cc = CustomerClusterer(n_clusters=2).fit(X)
    >>> cc.names_
    ['recent frequent high spenders', 'lapsed infrequent low spenders']
    >>> cc.profiles_["size"].tolist(), round(cc.fidelity_, 2)
    ([100, 100], 1.0)
    """

    _output_names = ("cluster", "segment")

    def __init__(self, features=None, n_clusters="auto", k_range=(3, 8), method="kmeans", log_transform=True,
                 sample_size=3_000, n_init=3, tree_depth=3, name_threshold=0.5, max_name_terms=3,
                 vocabulary=None, revenue="monetary", random_state=0, verbose=False):
        self.features = features
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.method = method
        self.log_transform = log_transform
        self.sample_size = sample_size
        self.n_init = n_init
        self.tree_depth = tree_depth
        self.name_threshold = name_threshold
        self.max_name_terms = max_name_terms
        self.vocabulary = vocabulary
        self.revenue = revenue
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------------------------------------ validation
    def _check_params(self):
        check_in(self.method, "method", _OWNER, ("kmeans", "gmm"))
        nc = self.n_clusters
        if not (nc == "auto" or (isinstance(nc, numbers.Integral) and not isinstance(nc, bool) and 1 <= nc <= 1000)):
            raise ParameterError(f"The 'n_clusters' parameter of {_OWNER} must be an int in [1, 1000] or 'auto'. "
                                 f"Got {nc!r} instead.")
        kr = self.k_range
        if not (isinstance(kr, (tuple, list)) and len(kr) == 2 and all(isinstance(k, numbers.Integral) for k in kr)
                and 2 <= kr[0] <= kr[1] <= 1000):
            raise ParameterError(f"The 'k_range' parameter of {_OWNER} must be a pair of ints (low, high) with "
                                 f"2 <= low <= high <= 1000. Got {kr!r} instead.")
        check_number(self.sample_size, "sample_size", _OWNER, low=100, high=10_000_000)
        check_number(self.n_init, "n_init", _OWNER, low=1, high=1000)
        check_number(self.tree_depth, "tree_depth", _OWNER, low=1, high=20)
        check_number(self.name_threshold, "name_threshold", _OWNER, kind="float", low=0)
        check_number(self.max_name_terms, "max_name_terms", _OWNER, low=1, high=100)
        check_names(self.features, "features", _OWNER)
        if self.features is not None:
            dup = sorted({str(c) for c in self.features if list(self.features).count(c) > 1})
            if dup:
                raise ParameterError(f"The 'features' parameter of {_OWNER} names {dup} more than once; "
                                     f"list each column once.")
        self._check_vocabulary()

    def _check_vocabulary(self):
        voc = self.vocabulary
        if voc is not None and not isinstance(voc, dict):
            raise ParameterError(f"The 'vocabulary' parameter of {_OWNER} must be None or a dict "
                                 f"{{feature: (word when low, word when high[, 'noun'])}}. Got {voc!r} instead.")
        for feat, entry in (voc or {}).items():
            if entry is None:
                continue
            if not (isinstance(entry, (tuple, list)) and len(entry) in (2, 3)
                    and all(isinstance(w, str) for w in entry[:2]) and (len(entry) == 2 or entry[2] == "noun")):
                raise ParameterError(f"The 'vocabulary' parameter of {_OWNER} must map each feature to (word when "
                                     f"low, word when high[, 'noun']) with words as str ('' leaves the feature "
                                     f"out of names). Got {entry!r} for {feat!r} instead.")

    def _check_X(self, X, where: str, fitting: bool) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise ParameterError(f"{_OWNER}.{where} expects a DataFrame of numeric features indexed by customer_id. "
                                 f"Got {type(X).__name__} instead.")
        named = list(self.features) if fitting and self.features is not None else \
            None if fitting else list(self.feature_names_in_)
        dup = sorted({str(c) for c in X.columns[X.columns.duplicated()] if named is None or c in named})
        if dup:
            raise DataError(f"{_OWNER}.{where}: the frame has several columns named {dup}; keep one of each "
                            f"(rename or drop the copies).")
        if fitting:
            cols = list(self.features) if self.features is not None else \
                [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c].dtype)
                 and not pd.api.types.is_bool_dtype(X[c].dtype)]
            if not cols:
                raise DataError(f"{_OWNER}.fit found no numeric feature column in {list(X.columns)[:10]}.")
        else:
            cols = [str(c) for c in self.feature_names_in_]
        missing = [c for c in cols if c not in X.columns]
        if missing:
            raise DataError(f"{_OWNER}.{where}: feature columns {missing} are missing from the frame; "
                            f"got {list(X.columns)[:10]}.")
        nonnum = [c for c in cols if not pd.api.types.is_numeric_dtype(X[c].dtype)]
        if nonnum:
            raise DataError(f"{_OWNER}.{where}: features must be numeric; {nonnum} are not (encode them first).")
        F = X[cols].astype("float64")
        bad = ~np.isfinite(F.to_numpy())
        if bad.any():
            counts = pd.Series(bad.sum(axis=0), index=cols)
            counts = counts[counts > 0]
            raise DataError(f"{_OWNER}.{where}: features must be finite; missing or infinite values in "
                            f"{ {c: int(v) for c, v in counts.items()} } (impute or drop those customers first).")
        return F

    def _to_model_space(self, F: pd.DataFrame) -> np.ndarray:
        Z = F.to_numpy()
        if self.log_transform:
            Z = _signed_log1p(Z)
        return (Z - self.center_) / self.scale_

    # -------------------------------------------------------------------------------------------------- fitting
    def _make_model(self, k: int):
        if self.method == "kmeans":
            return KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state)
        return GaussianMixture(n_components=k, covariance_type="full", n_init=self.n_init,
                               random_state=self.random_state, reg_covar=1e-4)

    def fit(self, X: pd.DataFrame, y=None) -> "CustomerClusterer":
        """Scale the features, choose k, cluster, profile and name the clusters and fit the explaining tree."""
        self._check_params()
        F = self._check_X(X, "fit", fitting=True)
        n = len(F)
        k_max = self.n_clusters if self.n_clusters != "auto" else self.k_range[1]
        if n <= k_max:
            raise DataError(f"{_OWNER}.fit needs more customers than clusters; got {n} customers for up to "
                            f"{k_max} clusters.")
        self._record_input(F.columns)
        L = _signed_log1p(F.to_numpy()) if self.log_transform else F.to_numpy()
        q1, med, q3 = np.percentile(L, [25, 50, 75], axis=0)
        scale = q3 - q1
        std = L.std(axis=0)
        scale = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))
        self.center_, self.scale_ = med, scale
        Z = (L - med) / scale
        rng = np.random.default_rng(self.random_state)

        if self.n_clusters == "auto":
            m = min(n, self.sample_size)
            idx = np.sort(rng.choice(n, m, replace=False)) if m < n else np.arange(n)
            S = Z[idx]
            ks = list(range(self.k_range[0], self.k_range[1] + 1))
            ks = [k for k in ks if k < m]
            scores = []
            # small problems: one thread avoids OpenMP/BLAS start-up and oversubscription costs
            with threadpool_limits(limits=1):
                for k in progress(ks, verbose=self.verbose, desc="choosing k"):
                    model = self._make_model(k).fit(S)
                    if self.method == "kmeans":
                        lab = model.labels_
                        scores.append(silhouette_score(S, lab) if len(np.unique(lab)) > 1 else -1.0)
                    else:
                        scores.append(model.bic(S))
            self.k_scores_ = pd.Series(scores, index=pd.Index(ks, name="k"),
                                       name="silhouette" if self.method == "kmeans" else "bic")
            best = int(np.argmax(scores) if self.method == "kmeans" else np.argmin(scores))
            self.n_clusters_ = ks[best]
        else:
            self.k_scores_ = pd.Series(dtype="float64", name="silhouette" if self.method == "kmeans" else "bic")
            self.n_clusters_ = int(self.n_clusters)

        if self.method == "gmm" and n > _GMM_MAX_FIT:  # EM with full covariances is costly on millions of rows
            self.model_ = self._make_model(self.n_clusters_).fit(Z[rng.choice(n, _GMM_MAX_FIT, replace=False)])
        else:
            self.model_ = self._make_model(self.n_clusters_).fit(Z)
        raw = _assign(self.model_, Z)
        k = self.n_clusters_
        rev = self._revenue(X)
        size = np.bincount(raw, minlength=k)
        if (empty := int(np.count_nonzero(size == 0))):   # fewer distinct customers than clusters (ties)
            warnings.warn(f"{_OWNER}.fit: {empty} of the {k} clusters are empty: the features hold only "
                          f"{len(np.unique(Z, axis=0)):,} distinct customer rows. Choose fewer clusters or "
                          "features that tell the customers apart.", InsufficientDataWarning, stacklevel=2)
        key = (np.bincount(raw, weights=rev, minlength=k) / np.maximum(size, 1)) if rev is not None else size
        order = np.lexsort((np.arange(k), -key))  # cluster 0 = highest mean revenue (else largest)
        self.label_map_ = np.empty(k, dtype=np.int64)
        self.label_map_[order] = np.arange(k)
        labels = self.label_map_[raw]
        self.labels_ = pd.Series(labels, index=X.index, name="cluster")
        self._profile(F, L, labels, rev)
        self._fit_tree(F, labels, rng)
        return self

    def _revenue(self, X) -> np.ndarray | None:
        if self.revenue is None or self.revenue not in X.columns \
                or not pd.api.types.is_numeric_dtype(X[self.revenue].dtype):
            return None
        return X[self.revenue].to_numpy(dtype="float64")

    def _profile(self, F: pd.DataFrame, L: np.ndarray, labels: np.ndarray, rev) -> None:
        k = self.n_clusters_
        cols = list(F.columns)
        size = np.bincount(labels, minlength=k)
        means = pd.DataFrame(F.to_numpy()).groupby(labels).mean().reindex(range(k))
        means.columns = cols
        lmean = pd.DataFrame(L).groupby(labels).mean().reindex(range(k)).to_numpy()
        mu, sd = L.mean(axis=0), L.std(axis=0)
        z = np.divide(lmean - mu, sd, out=np.zeros_like(lmean), where=sd > 0)
        idx = pd.Index(range(k), name="cluster")
        self.zscores_ = pd.DataFrame(z, index=idx, columns=cols)
        self.names_ = self._names(self.zscores_)
        prof = pd.DataFrame({"name": self.names_, "size": size, "share": size / size.sum()}, index=idx)
        if rev is not None:
            r = np.bincount(labels, weights=rev, minlength=k)
            prof["revenue_share"] = r / rev.sum() if rev.sum() else np.nan
        self.profiles_ = prof.join(means.set_axis(idx))

    def _vocab(self) -> dict:
        return {**DEFAULT_NAME_VOCABULARY, **(self.vocabulary or {})}

    def _names(self, z: pd.DataFrame) -> list[str]:
        vocab = self._vocab()

        def name(row, n_terms, threshold):
            terms = []  # (word, kind, feature); kind: "adj", "noun" or "with" (feature outside the vocabulary)
            for feat in row.abs().sort_values(ascending=False, kind="stable").index:
                v = row[feat]
                if abs(v) < threshold:
                    break
                very = "very " if abs(v) >= 3 * self.name_threshold else ""
                entry = vocab.get(feat)
                if entry is None:
                    terms.append((f"{very}{'high' if v > 0 else 'low'} {feat}", "with", feat))
                else:
                    word = entry[1] if v > 0 else entry[0]
                    if word:
                        terms.append((very + word, "noun" if len(entry) > 2 and entry[2] == "noun" else "adj",
                                      feat))
                if len(terms) == n_terms:
                    break
            if not terms:
                return "average customers"
            rank = {f: i for i, f in enumerate(vocab)}  # adjectives in vocabulary order: "recent frequent ..."
            terms.sort(key=lambda t: rank.get(t[2], len(rank)))
            adjs = [w for w, kind, _ in terms if kind == "adj"]
            nouns = [w for w, kind, _ in terms if kind == "noun"]
            withs = [w for w, kind, _ in terms if kind == "with"]
            out = " ".join(adjs + [nouns[0] if nouns else "customers"])
            if withs:
                out += " with " + (withs[0] if len(withs) == 1 else ", ".join(withs[:-1]) + " and " + withs[-1])
            return out

        names = [name(z.loc[c], self.max_name_terms, self.name_threshold) for c in z.index]
        for extra in (1, 2, len(z.columns)):  # disambiguate with more, weaker terms
            dup = pd.Series(names).duplicated(keep=False).to_numpy()
            if not dup.any():
                break
            for i in np.flatnonzero(dup):
                names[i] = name(z.iloc[i], self.max_name_terms + extra, self.name_threshold / 2)
        seen: dict = {}
        for i, nm in enumerate(names):  # last resort: number the remaining duplicates
            seen[nm] = seen.get(nm, 0) + 1
            if seen[nm] > 1:
                names[i] = f"{nm} ({seen[nm]})"
        return names

    def _fit_tree(self, F: pd.DataFrame, labels: np.ndarray, rng) -> None:
        n = len(F)
        idx = np.sort(rng.choice(n, 200_000, replace=False)) if n > 200_000 else np.arange(n)
        self.tree_ = DecisionTreeClassifier(max_depth=self.tree_depth, min_samples_leaf=max(1, len(idx) // 200),
                                            random_state=self.random_state)
        self.tree_.fit(F.to_numpy()[idx], labels[idx])
        self.fidelity_ = float(np.mean(self.tree_.predict(F.to_numpy()) == labels))

    def _check_loaded_state(self):
        """``label_map_`` maps the model's clusters onto ``0..n_clusters_-1`` (called by ``crmml.persistence.load``)."""
        check_is_fitted(self, "model_")
        k = int(self.n_clusters_)
        labels = check_codes(self.label_map_, "label_map_", 0, k, k)
        if len(np.unique(labels)) != k:
            raise ValueError("label_map_ must be a permutation of the cluster numbers.")
        n_model = getattr(self.model_, "n_clusters", getattr(self.model_, "n_components", k))
        if n_model != k:
            raise ValueError(f"model_ has {n_model} clusters, n_clusters_ says {k}.")
        fitted_attrs(self, ("model_", "feature_names_in_", "center_", "scale_"))
        n = len(check_str_list([str(c) for c in self.feature_names_in_], "feature_names_in_"))
        if getattr(self.model_, "n_features_in_", n) != n:
            raise ValueError(f"model_ reads {self.model_.n_features_in_} features; feature_names_in_ has {n}.")
        check_finite(self.center_, "center_", shape=(n,))
        if np.any(check_finite(self.scale_, "scale_", shape=(n,)) <= 0):
            raise ValueError("scale_ must hold numbers > 0.")

    # ------------------------------------------------------------------------------------------------ predicting
    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Cluster number of each customer (``Series`` named ``cluster``, indexed like ``X``)."""
        check_is_fitted(self, "model_")
        F = self._check_X(X, "predict", fitting=False)
        raw = _assign(self.model_, self._to_model_space(F))
        return pd.Series(self.label_map_[raw], index=X.index, name="cluster")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """``cluster`` number and ``segment`` name (categorical in cluster order) of each customer."""
        c = self.predict(X)
        return pd.DataFrame({"cluster": c, "segment": pd.Categorical.from_codes(c.to_numpy(),
                                                                                categories=self.names_)},
                            index=X.index)

    def fit_predict(self, X: pd.DataFrame, y=None) -> pd.Series:
        """``fit(X).labels_``."""
        return self.fit(X).labels_

    def rules(self) -> pd.DataFrame:
        """The explaining tree's leaves as if-then rules.

        Returns
        -------
        DataFrame with one row per leaf: ``rule`` (conditions joined by "and", thresholds in feature units),
        ``cluster``, ``segment`` (name), ``customers`` (in the tree's training sample) and ``purity`` (share of
        those customers really in that cluster), sorted by cluster then size.
        """
        check_is_fitted(self, "tree_")
        t = self.tree_.tree_
        names = list(self.feature_names_in_)
        classes = self.tree_.classes_
        rows = []

        def render(bounds):
            parts = []
            for f, (lo, hi) in bounds.items():
                if lo is not None and hi is not None:
                    parts.append(f"{lo:.4g} < {f} <= {hi:.4g}")
                elif lo is not None:
                    parts.append(f"{f} > {lo:.4g}")
                else:
                    parts.append(f"{f} <= {hi:.4g}")
            return " and ".join(parts) if parts else "(all customers)"

        def walk(node, bounds):
            if t.children_left[node] == -1:
                counts = t.value[node][0]
                c = int(classes[int(np.argmax(counts))])
                rows.append({"rule": render(bounds), "cluster": c,
                             "segment": self.names_[c], "customers": int(t.n_node_samples[node]),
                             "purity": float(counts.max() / counts.sum())})
                return
            f, thr = names[t.feature[node]], float(t.threshold[node])
            lo, hi = bounds.get(f, (None, None))
            walk(t.children_left[node], {**bounds, f: (lo, thr)})
            walk(t.children_right[node], {**bounds, f: (thr, hi)})

        walk(0, {})
        return pd.DataFrame(rows).sort_values(["cluster", "customers"], ascending=[True, False],
                                              ignore_index=True)
