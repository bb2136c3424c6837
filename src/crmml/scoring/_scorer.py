"""LeadScorer: a calibrated 0-100 lead score with grades, fit/engagement sub-scores and per-lead reasons."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from crmml._utils import check_as_of, check_in, check_names, check_number, steps
from crmml._utils._xgb import check_xgb_params
from crmml.exceptions import InsufficientDataWarning, ParameterError
from crmml.schema import SchemaError, validate_leads
from crmml.scoring._evaluate import (DEFAULT_THRESHOLDS, OUTPUT_COLUMNS, assign_grades, evaluate_lead_scores,
                                     grade_cutoffs, grade_thresholds, reasons, to_score)
from crmml.scoring._features import (LeadEncoder, attribute_columns, event_types_before, lead_event_features,
                                     prepare_events)
from crmml.scoring._loaded import LeadScorerState
from crmml.scoring._model import CalibratedModel, aggregate, compare_models
from crmml.scoring._validation import (date_feature_names, date_features, lead_folds, lead_times, leakage_screen,
                                       warn_unknown_excluded)

__all__ = ["LeadScorer", "InsufficientDataWarning"]


class LeadScorer(LeadScorerState, BaseEstimator):
    """Calibrated lead scoring: probability, 0-100 score, grade A-D, fit and engagement sub-scores, reasons.

    Fits on a standard leads frame with a ``converted`` label and, optionally, lead events (behavioural features:
    counts per event type, events in the last 7 days, days since the last event, read only *before* each lead's
    scoring time).

    Notes
    -----
    How it works:

    - Attributes: every column except ``lead_id``, ``converted``, ``created_at``, ``score_time`` and ``exclude``
      that holds numbers, booleans or text; numeric columns are median-imputed (with a missing indicator when fit
      saw missing values), categorical ones one-hot encoded with levels rarer than
      ``max(5, min_category_frequency * n)`` pooled into ``__other__``, which also receives categories unseen at
      fit (no error at scoring time). Other dtypes (dates such as ``last_contact_date``, durations, periods) are no
      features: ``fit`` names them in a :class:`~crmml.exceptions.DroppedCustomersWarning`; derive a number known
      at scoring time (e.g. days to ``created_at``; crmml does not: export dates are often recorded later) or
      ``exclude=`` them. :class:`RuleLeadScorer` reads the columns its conditions name, dates included.
    - Date features: with ``created_at``, its month (``created_at_month``) and,
      when the dates are not all on one day of the month, its weekday
      (``created_at_weekday``) are categorical attributes (``date_features``).
    - Validation (``validation="auto"``): leads arrive over time and are
      scored after the ones the scorer learned from, so with ``created_at``
      the folds are *forward-chaining*: the leads sorted by ``created_at`` are
      cut into ``cv + 1`` consecutive blocks and fold ``k`` trains on blocks
      ``0..k-1`` and tests on block ``k`` (the first block only trains; leads
      of one date never straddle an edge). Without ``created_at`` (or when it
      leaves fewer than 2 folds with both classes), stratified random
      ``cv``-fold cross-validation. ``validation_`` says which was used, and so
      does ``evaluate()``.
    - Model selection (``model="auto"``): an L2-regularised logistic
      regression (standardised features, skewed counts log1p-transformed,
      strength ``C``) and xgboost (moderate trees, see ``xgb_params``) are
      validated on those folds; the family with the higher mean out-of-fold
      ROC-AUC is refitted on all leads (``cv_results_``).
    - Calibration: a :class:`crmml._utils.ProbabilityCalibrator` fitted on the
      pooled out-of-fold (out-of-time, with ``created_at``) predictions of the
      chosen family, so ``probability`` is an honest conversion probability
      for leads that come later; ``score = round(100 * probability)``.
    - Leakage screen: ``fit`` issues a :class:`crmml.exceptions.LeakageWarning`
      per column that alone separates the classes almost perfectly
      (single-column ROC-AUC >= 0.95, ``leakage_``) and per date column with
      values after ``created_at``; exclude such columns with ``exclude=``.
    - Grades: A/B/C/D by three cutoffs (``grade_by``): ``"odds"`` (default)
      compares each lead's conversion odds ``p / (1 - p)`` with the average
      lead's (the base rate learned in fit): A >= 2x, B >= 1x, C >= 0.5x, D
      below. The cutoffs are fixed calibrated-probability bands, so a grade
      means the same conversion probability at any time: when the mix of
      leads (and so the conversion rate) moves, the *share* of leads per grade
      moves with it, and the conversion rate still falls from A to D. No
      cutoff depends on the other leads being scored (partition-exact).
      For rare conversions this is about 2x / 1x / 0.5x the base rate;
      unlike a plain multiple of the base rate it stays reachable when
      conversions are common (base 60%: A from p = 0.75), so the grades mean
      the same for any base rate. ``"quantile"`` gives the top 10% / next 20% / next 30% / rest of
      the cross-validated training scores; ``"score"`` uses fixed 0-100 cutoffs
      (75, 50, 25). ``grade_thresholds`` overrides the three numbers.
    - Sub-scores: when events are given, ``fit_score`` comes from a calibrated
      model of the attributes only (who the lead is) and ``engagement_score``
      from the event features only (what the lead did); without events,
      ``fit_score`` equals ``score`` and ``engagement_score`` is NaN.
    - Minimum data: with fewer than ``min_leads`` leads or fewer than
      ``min_conversions`` leads in either class, an
      :class:`InsufficientDataWarning` is issued and ``fallback`` is used
      (``"prior"``: every lead gets the smoothed base rate; or a
      :class:`RuleLeadScorer`, fitted and used as is).

    Choosing the scoring time for training: it must be the moment the lead
    is scored in practice, before its outcome is known -- e.g.
    ``score_time = created_at + 14 days`` for a 14-day nurture period. A
    global ``as_of`` after the conversions lets events caused by the
    conversion (onboarding e-mails, logins) leak into the training features.

    Parameters
    ----------
    model : {"auto", "logistic", "xgboost"}, default="auto"
    cv : int, default=5
        Folds of the cross-validation (model selection, calibration, ``evaluate()``).
    validation : {"auto", "time", "random"}, default="auto"
        ``"auto"``: forward-chaining folds on ``created_at`` when the leads have it, else stratified random
        folds; ``"time"`` requires ``created_at`` (error otherwise); ``"random"`` ignores it.
    date_features : bool, default=True
        Add the month (and weekday) of ``created_at`` as attributes.
    C : float, default=1.0
        Inverse L2 strength of the logistic regression.
    xgb_params : dict, optional
        Overrides of the xgboost defaults (200 trees, depth 4, learning rate 0.08, subsampling 0.8, 1 thread).
    calibration : {"sigmoid", "isotonic"}, default="sigmoid"
        Platt scaling keeps the order of the leads (no ties); isotonic needs many conversions.
    grade_by : {"odds", "quantile", "score"}, default="odds"
    grade_thresholds : tuple of 3 floats, optional
        Cutoffs of grades A, B, C in the unit of ``grade_by``: odds ratios to the average lead, top shares,
        or 0-100 scores.
    exclude : list of str, optional
        Columns never used as features. Use it for columns that leak the outcome because they are only
        known after the sales contact, e.g. bank marketing's call ``duration`` (a call that lasts long is
        a call that converts, but the duration is unknown when deciding whom to call) or a ``stage`` /
        ``closed_date`` column; also for identifiers. A name that is no column of the leads (after
        ``columns=``) excludes nothing and gets a :class:`~crmml.exceptions.LeakageWarning`.
    optional : list of str, optional
        Attribute columns that may be absent at scoring time (taken as missing on every row). Columns with
        missing values in the training data are always optional; any other attribute column seen in fit is
        required and its absence raises :class:`crmml.SchemaError`.
    min_category_frequency : float, default=0.005
    max_categories : int, default=30
    min_leads, min_conversions : int, default=100, 20
    fallback : "prior" or RuleLeadScorer, default="prior"
    random_state : int, optional
    verbose : bool, default=False
        Show a progress bar (stderr) over the stages of ``fit``: the features, the leakage screen, each fold of each
        candidate model, the refit of the chosen one, the sub-scores' folds and refits. The results are the same.

    Attributes
    ----------
    model_kind_ : str
        ``"logistic"``, ``"xgboost"``, ``"prior"`` or ``"rules"`` (fallbacks).
    cv_results_ : DataFrame
        Per candidate family: mean and std of out-of-fold ``roc_auc`` and ``pr_auc``.
    validation_ : str
        The validation used (time-ordered forward folds, or stratified random folds and why).
    leakage_ : DataFrame
        Per feature: ``single_column_roc_auc`` and ``suspect`` (the leakage screen).
    date_features_ : list of str
    model_, fit_model_, engagement_model_ : CalibratedModel or None
    encoder_ : LeadEncoder
    attributes_, required_, event_types_ : list of str
    base_rate_ : float
    grade_cutoffs_ : ndarray
        Probability cutoffs of grades A, B, C.
    oof_ : DataFrame
        Cross-validated (out-of-fold, calibrated) ``probability`` and ``converted`` per training lead that
        was in a test fold (with forward folds, every lead but those of the first block).

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> crm = make_synthetic_crm(n_customers=600, seed=1)
    >>> scorer = LeadScorer(model="logistic", cv=3, random_state=0).fit(crm.leads)
    >>> scorer.score_leads(crm.leads).columns.tolist()
    ['probability', 'score', 'grade', 'fit_score', 'engagement_score']
    >>> bool(scorer.evaluate()["roc_auc"] > 0.6)
    True
    """

    def __init__(self, model="auto", cv=5, validation="auto", date_features=True, C=1.0, xgb_params=None,
                 calibration="sigmoid", grade_by="odds",
                 grade_thresholds=None, exclude=None, optional=None, min_category_frequency=0.005,
                 max_categories=30, min_leads=100, min_conversions=20, fallback="prior", random_state=None,
                 verbose=False):
        self.model = model
        self.cv = cv
        self.validation = validation
        self.date_features = date_features
        self.C = C
        self.xgb_params = xgb_params
        self.calibration = calibration
        self.grade_by = grade_by
        self.grade_thresholds = grade_thresholds
        self.exclude = exclude
        self.optional = optional
        self.min_category_frequency = min_category_frequency
        self.max_categories = max_categories
        self.min_leads = min_leads
        self.min_conversions = min_conversions
        self.fallback = fallback
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------------------------- fit
    def _check_params(self):
        own = "LeadScorer"
        check_in(self.model, "model", own, ("auto", "logistic", "xgboost"))
        check_number(self.cv, "cv", own, low=2, high=100)
        check_in(self.validation, "validation", own, ("auto", "time", "random"))
        check_in(self.date_features, "date_features", own, (True, False))
        check_number(self.C, "C", own, kind="float", low=0, low_inclusive=False)
        check_xgb_params(self.xgb_params if self.xgb_params is not None else {}, own, "xgb_params")
        check_number(self.min_category_frequency, "min_category_frequency", own, kind="float", low=0, high=1)
        check_number(self.max_categories, "max_categories", own, low=1, high=10_000)
        if self.random_state is not None:
            check_number(self.random_state, "random_state", own, low=0, high=2**32 - 1)
        check_in(self.calibration, "calibration", own, ("sigmoid", "isotonic"))
        check_in(self.verbose, "verbose", own, (True, False))
        check_in(self.grade_by, "grade_by", own, tuple(DEFAULT_THRESHOLDS))
        check_number(self.min_leads, "min_leads", own, low=2)
        check_number(self.min_conversions, "min_conversions", own, low=1)
        check_names(self.exclude, "exclude", own)
        check_names(self.optional, "optional", own)
        from crmml.scoring._rules import RuleLeadScorer

        if not (isinstance(self.fallback, RuleLeadScorer) or self.fallback == "prior"):
            raise ParameterError("The 'fallback' parameter of LeadScorer must be 'prior' or a RuleLeadScorer. "
                                 f"Got {self.fallback!r} instead.")
        return grade_thresholds(self.grade_by, self.grade_thresholds, own)

    def _attribute_frame(self, leads):
        X = leads[[c for c in self.attributes_ if c in leads.columns]]
        names = getattr(self, "date_features_", [])   # absent from files saved before date features
        if names:
            X = pd.concat([X.reset_index(drop=True), date_features(leads, names)], axis=1)
        return X

    def fit(self, leads, events=None, *, as_of=None, columns=None, event_columns=None):
        """Fit on labelled leads (and optionally their events before each lead's scoring time).

        Parameters
        ----------
        leads : DataFrame
            Standard leads frame with ``converted``; optional ``score_time`` (each lead's time for events).
        events : DataFrame, optional
            Lead events: ``lead_id`` (or ``customer_id`` holding the lead id), ``timestamp``, ``event_type``.
        as_of : timestamp, optional
            Global scoring time when ``leads`` has no ``score_time``; required with events.
        columns, event_columns : dict, optional
            Mappings of your column names onto the canonical ones.
        """
        thr = self._check_params()
        if as_of is not None:
            check_as_of(as_of, "LeadScorer.fit")     # refused even where unused (no events): it is a mistake
        leads = validate_leads(leads, columns, require_label=True)
        y = leads["converted"].to_numpy()
        warn_unknown_excluded(self.exclude, leads.columns)
        self.attributes_ = attribute_columns(leads, self.exclude)
        self.required_ = [c for c in self.attributes_ if c not in set(self.optional or ())
                          and not leads[c].isna().any()]
        self.base_rate_ = float((y.sum() + 1.0) / (len(y) + 2.0))
        self.uses_events_ = events is not None
        self.event_types_ = []
        n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
        self.fit_model_ = self.engagement_model_ = self.model_ = self.fallback_ = None
        t = lead_times(leads)
        self.date_features_ = date_feature_names(t) if self.date_features else []
        kinds = ["logistic", "xgboost"] if self.model == "auto" else [self.model]

        def n_stages(n_folds):      # features, leakage screen, folds per candidate, refit (+ sub-scores' fits)
            return 3 + len(kinds) * n_folds + (0 if events is None else 2 * (n_folds + 1))

        with steps(n_stages(self.cv), verbose=self.verbose, desc="LeadScorer.fit") as step:
            if len(y) < self.min_leads or min(n_pos, n_neg) < self.min_conversions:
                step(f"fallback for {len(y):,} leads", total=1)
                return self._fit_fallback(leads, events, y, thr, as_of, event_columns, n_pos, n_neg)
            step(f"features of {len(y):,} leads" + ("" if events is None else " and their events"))
            X_df = self._attribute_frame(leads)
            if events is not None:
                events = prepare_events(events, event_columns)
                self.event_types_ = event_types_before(leads, events, as_of)
                ev = lead_event_features(leads, events, as_of=as_of, event_types=self.event_types_)
                self.event_features_ = list(ev.columns)
                X_df = pd.concat([X_df.reset_index(drop=True), ev.reset_index(drop=True)], axis=1)
            self.encoder_ = LeadEncoder(self.min_category_frequency, self.max_categories).fit(X_df)
            X = self.encoder_.transform(X_df)
            if X.shape[1] == 0:
                raise SchemaError("leads", None, "no attribute columns to learn from (besides lead_id, converted, "
                                  "created_at, score_time and exclude=) and no events; add attributes or use "
                                  "RuleLeadScorer")
            numeric = self.encoder_.is_numeric_
            step("leakage screen")
            self.leakage_ = leakage_screen(leads, X_df, y, self.exclude,
                                           min_category_frequency=self.min_category_frequency)
            folds, periods, self.validation_ = lead_folds(t, y, self.cv, self.validation, self.random_state)
            stage = partial(step, total=n_stages(len(folds)))      # the count, now that the folds are known
            self.cv_results_, oofs = compare_models({k: self._new_model(k) for k in kinds}, X, y, numeric, folds,
                                                    stage)
            self.model_kind_ = str(self.cv_results_["roc_auc"].idxmax())
            stage(f"calibrated {self.model_kind_} on all {len(y):,} leads")
            self.model_ = self._new_model(self.model_kind_).fit(X, y, numeric, oofs[self.model_kind_], periods)
            held = np.isfinite(oofs[self.model_kind_])
            # one level for all folds, as for new leads: the periods' own levels would flatter evaluate()
            oof_p = self.model_.calibrator_.transform(oofs[self.model_kind_][held])
            self.oof_ = pd.DataFrame({"probability": oof_p, "converted": y[held]},
                                     index=leads["lead_id"].to_numpy()[held])
            self.oof_.index.name = "lead_id"
            if events is not None:
                src = np.asarray(self.encoder_.feature_source_, dtype=object)
                self.attribute_mask_ = np.isin(src, self.attributes_ + self.date_features_)
                m = self.attribute_mask_
                self.fit_model_ = self._sub_model(X[:, m], y, numeric[m], folds, periods, stage, "fit sub-score")
                self.engagement_model_ = self._sub_model(X[:, ~m], y, numeric[~m], folds, periods, stage,
                                                         "engagement sub-score")
            self.grade_cutoffs_ = grade_cutoffs(self.grade_by, thr, self.base_rate_, oof_p)
        return self

    def _new_model(self, kind):
        return CalibratedModel(kind=kind, C=self.C, xgb_params=self.xgb_params, calibration=self.calibration,
                               random_state=self.random_state)

    def _sub_model(self, X, y, numeric, folds, periods, stage, name):
        if X.shape[1] == 0:
            return None
        cm = self._new_model(self.model_kind_)
        oof, _, _ = cm.oof_predict(X, y, numeric, folds, lambda fold: stage(f"{name}, {fold}"))
        stage(f"{name} on all {len(y):,} leads")
        return cm.fit(X, y, numeric, oof, periods)

    def _fit_fallback(self, leads, events, y, thr, as_of, event_columns, n_pos, n_neg):
        what = "the prior (base rate)" if self.fallback == "prior" else "the rule scorer"
        warnings.warn(f"LeadScorer: {len(y)} leads with {n_pos} conversions and {n_neg} non-conversions is too "
                      f"little for a stable model (min_leads={self.min_leads}, min_conversions="
                      f"{self.min_conversions} per class); falling back to {what}.",
                      InsufficientDataWarning, stacklevel=3)
        self.cv_results_ = pd.DataFrame(columns=["roc_auc", "roc_auc_std", "pr_auc", "pr_auc_std"],
                                        dtype=float).rename_axis("model")
        self.validation_ = "none: too few leads for a model (in-sample scores of the fallback)"
        self.leakage_ = pd.DataFrame({"single_column_roc_auc": pd.Series(dtype=float),
                                      "suspect": pd.Series(dtype=bool)}).rename_axis("feature")
        if self.fallback == "prior":
            self.model_kind_ = "prior"
            p = np.full(len(y), self.base_rate_)
        else:
            self.model_kind_ = "rules"
            self.fallback_ = clone(self.fallback).fit(leads, events, as_of=as_of, event_columns=event_columns)
            p = self.fallback_.score_leads(leads, events, as_of=as_of, event_columns=event_columns)[
                "probability"].to_numpy()
        self.oof_ = pd.DataFrame({"probability": p, "converted": y}, index=leads["lead_id"].to_numpy())
        self.oof_.index.name = "lead_id"
        self.grade_cutoffs_ = grade_cutoffs(self.grade_by, thr, self.base_rate_, p)
        return self

    # ---------------------------------------------------------------------------------- score
    def _prepare(self, leads, events, as_of, columns, event_columns):
        check_is_fitted(self, "grade_cutoffs_")
        if as_of is not None:
            check_as_of(as_of, "LeadScorer")
        leads = validate_leads(leads, columns)
        for c in self.required_:
            if c not in leads.columns:
                raise SchemaError("leads", c, "required column is missing (it had no missing values when the "
                                  "scorer was fitted; list it in optional= to allow its absence)")
        if self.model_ is None:
            return leads, None, None
        X_df = self._attribute_frame(leads)
        if self.uses_events_:
            if events is None:
                raise SchemaError("events", None, "the scorer was fitted with lead events; pass events= "
                                  "(an empty frame if these leads have none)")
            ev = lead_event_features(leads, events, as_of=as_of, event_types=self.event_types_,
                                     columns=event_columns)
            X_df = pd.concat([X_df.reset_index(drop=True), ev.reset_index(drop=True)], axis=1)
        return leads, X_df, self.encoder_.transform(X_df)

    def _score(self, leads, X, events, as_of, event_columns) -> pd.DataFrame:
        idx = pd.Index(leads["lead_id"].to_numpy(), name="lead_id")
        if self.model_kind_ == "rules":
            out = self.fallback_.score_leads(leads, events, as_of=as_of, event_columns=event_columns)
            out["grade"] = assign_grades(out["probability"], self.grade_cutoffs_)
            return out
        p = np.full(len(leads), self.base_rate_) if self.model_ is None else self.model_.predict_proba(X)
        out = pd.DataFrame({"probability": p, "score": to_score(p), "grade": assign_grades(p, self.grade_cutoffs_)},
                           index=idx)
        if self.fit_model_ is not None:
            out["fit_score"] = to_score(self.fit_model_.predict_proba(X[:, self.attribute_mask_]))
        else:
            out["fit_score"] = out["score"]
        if self.engagement_model_ is not None:
            out["engagement_score"] = to_score(self.engagement_model_.predict_proba(X[:, ~self.attribute_mask_]))
        else:
            out["engagement_score"] = np.nan
        return out[OUTPUT_COLUMNS]

    def _contributions(self, leads, X, approximate=False) -> pd.DataFrame:
        idx = pd.Index(leads["lead_id"].to_numpy(), name="lead_id")
        if self.model_ is None:
            return pd.DataFrame(index=idx)
        C = aggregate(self.model_.contributions(X, approximate), self.encoder_.feature_source_, self.encoder_.columns_)
        C.index = idx
        return C

    def score_leads(self, leads, events=None, *, as_of=None, columns=None, event_columns=None) -> pd.DataFrame:
        """Score leads (per lead; partitionable).

        As :meth:`fit` (``converted`` not needed; extra columns ignored; unseen categories go to ``__other__``; absent
        optional columns taken as missing); events as :func:`lead_event_features` with ``event_types=event_types_``.

        Returns
        -------
        DataFrame indexed by ``lead_id``: ``probability`` (calibrated), ``score`` (0-100), ``grade`` (A-D),
        ``fit_score`` and ``engagement_score`` (0-100; see the class docstring).
        """
        leads, _, X = self._prepare(leads, events, as_of, columns, event_columns)
        return self._score(leads, X, events, as_of, event_columns)

    def contributions(self, leads, events=None, *, as_of=None, columns=None, event_columns=None,
                      approximate=False) -> pd.DataFrame:
        """Log-odds contribution of each attribute / event feature to each lead's score, relative to the
        average lead (logistic: coefficient x standardised value; xgboost: ``pred_contribs``), one-hot
        columns summed back onto their source column. Indexed by ``lead_id``; no columns for fallbacks.
        ``approximate=True`` uses Saabas path attributions instead of exact TreeSHAP for xgboost (about 25x
        faster, for explaining very many leads at once; exact TreeSHAP explains ~2,000 leads/s per core)."""
        leads, _, X = self._prepare(leads, events, as_of, columns, event_columns)
        return self._contributions(leads, X, approximate)

    def explain(self, leads, events=None, *, top_n=3, as_of=None, columns=None, event_columns=None,
                approximate=False):
        """Top reasons for and against each lead, as readable text.

        Returns
        -------
        DataFrame indexed by ``lead_id``: ``score``, ``grade``, ``top_positive`` and ``top_negative``
        (up to ``top_n`` reasons each, ``"; "``-separated, like ``"poutcome = success (+1.21)"``; the number
        is the contribution in log-odds relative to the average lead). Empty for the prior fallback;
        the rule fallback explains with its rules. ``approximate``: see :meth:`contributions`.
        """
        check_is_fitted(self, "grade_cutoffs_")
        check_number(top_n, "top_n", "LeadScorer.explain", low=1)
        if self.model_kind_ == "rules":
            return self.fallback_.explain(leads, events, top_n=top_n, as_of=as_of, columns=columns,
                                          event_columns=event_columns)
        leads, X_df, X = self._prepare(leads, events, as_of, columns, event_columns)
        scores = self._score(leads, X, events, as_of, event_columns)
        if self.model_ is None:
            rs = pd.DataFrame({"top_positive": "", "top_negative": ""}, index=scores.index)
        else:
            rs = reasons(self._contributions(leads, X, approximate), X_df, top_n, scores.index)
        return pd.concat([scores[["score", "grade"]], rs], axis=1)

    def evaluate(self, leads=None, events=None, *, as_of=None, columns=None, event_columns=None,
                 n_bins=10) -> dict:
        """Cross-validated evaluation (``leads=None``: the out-of-fold scores of fit) or on labelled leads.

        With ``created_at`` the out-of-fold scores are out of time (forward-chaining folds), so the figures
        are those to expect on leads that come later; ``validation`` in the result says which folds.

        Returns the dict of :func:`evaluate_lead_scores`: ``roc_auc``, ``pr_auc``, ``brier``, ``base_rate``,
        ``gains`` (by score decile) and ``grades`` (conversion rate per grade), plus ``validation``.
        """
        check_is_fitted(self, "grade_cutoffs_")
        if leads is None:
            y, p = self.oof_["converted"].to_numpy(), self.oof_["probability"].to_numpy()
            how = getattr(self, "validation_", "random: stratified folds")
        else:
            y = validate_leads(leads, columns, require_label=True)["converted"].to_numpy()
            p = self.score_leads(leads, events, as_of=as_of, columns=columns,
                                 event_columns=event_columns)["probability"].to_numpy()
            how = f"the {len(y)} labelled leads given"
        return {**evaluate_lead_scores(y, p, assign_grades(p, self.grade_cutoffs_), n_bins=n_bins),
                "validation": how}
