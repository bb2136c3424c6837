"""RuleLeadScorer: weighted rules (BANT or your own) for when no labelled history exists."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmml._expression import RuleError, check_callable_index, parse_condition
from crmml._utils import ProbabilityCalibrator, check_as_of, check_number
from crmml._utils._rowdot import row_dot
from crmml._utils._state import fitted_attrs
from crmml.exceptions import ParameterError
from crmml.schema import validate_leads
from crmml.scoring._evaluate import OUTPUT_COLUMNS, assign_grades, check_thresholds, evaluate_lead_scores
from crmml.scoring._features import lead_event_features, prepare_events

__all__ = ["RuleLeadScorer", "BANT_RULES"]

#: The default rules: 25 points for each BANT criterion, read from 0/1 (or boolean) columns
#: ``budget``, ``authority``, ``need`` and ``timeline``.
BANT_RULES = (
    {"name": "budget", "condition": "budget > 0", "points": 25},
    {"name": "authority", "condition": "authority > 0", "points": 25},
    {"name": "need", "condition": "need > 0", "points": 25},
    {"name": "timeline", "condition": "timeline > 0", "points": 25},
)


_MAX_POINTS = 1e12  # beyond this the sums of points overflow or lose the small rules in rounding


def _callable_mask(m, frame, name) -> np.ndarray:
    """The boolean match of a callable condition's result (missing is no match); ValueError naming the rule."""
    check_callable_index(m, frame, f"Rule {name!r} of RuleLeadScorer", "leads frame")
    m = pd.Series(np.asarray(m), index=frame.index) if np.ndim(m) else pd.Series(bool(m), index=frame.index)
    if len(m) != len(frame):
        raise RuleError(f"Rule {name!r} of RuleLeadScorer must give one value per lead. "
                        f"Got {len(m)} values for {len(frame)} leads instead.")
    try:
        return m.astype("boolean").fillna(False).astype(bool).to_numpy()
    except (TypeError, ValueError):
        bad = m[m.notna() & ~m.isin([True, False])]
        raise RuleError(f"Rule {name!r} of RuleLeadScorer (a callable) must give True/False per lead (missing "
                        f"counts as no match); {len(bad)} of {len(m)} values are not, e.g. "
                        f"{bad.unique()[:3].tolist()}.") from None


def _normalise_rules(rules):
    owner = "RuleLeadScorer"
    if rules is None:
        rules = BANT_RULES
    if isinstance(rules, dict):
        items = []
        for name, spec in rules.items():
            if not (isinstance(spec, (tuple, list)) and len(spec) in (2, 3)):
                raise ParameterError(f"The 'rules' parameter of {owner} must map each rule name to "
                                     f"(condition, points[, kind]). Got {spec!r} for {name!r} instead.")
            items.append({"name": name, "condition": spec[0], "points": spec[1],
                          **({"kind": spec[2]} if len(spec) == 3 else {})})
        rules = items
    if not isinstance(rules, (list, tuple)) or len(rules) == 0:
        raise ParameterError(f"The 'rules' parameter of {owner} must be a non-empty list of dicts or a dict. "
                             f"Got {rules!r} instead.")
    out = []
    for i, r in enumerate(rules):
        if not isinstance(r, dict) or "condition" not in r or "points" not in r:
            raise ParameterError(f"Rule {i} of {owner} must be a dict with 'condition' and 'points'. "
                                 f"Got {r!r} instead.")
        cond = r["condition"]
        if not (isinstance(cond, str) or callable(cond)):
            raise ParameterError(f"The condition of rule {i} of {owner} must be a query string or a callable. "
                                 f"Got {cond!r} instead.")
        check_number(r["points"], "points", f"{owner} rule {i}", kind="float", low=-_MAX_POINTS, high=_MAX_POINTS)
        kind = r.get("kind", "fit")
        if kind not in ("fit", "engagement"):
            raise ParameterError(f"The kind of rule {i} of {owner} must be 'fit' or 'engagement'. "
                                 f"Got {kind!r} instead.")
        name = str(r.get("name", cond if isinstance(cond, str) else f"rule_{i}"))
        out.append({"name": name, "condition": cond, "points": float(r["points"]), "kind": kind})
    names = [r["name"] for r in out]
    if len(set(names)) != len(names):
        raise ParameterError(f"Rule names of {owner} must be unique. Got {names} instead.")
    return out


def _conditions(rules) -> dict:
    """Rule name -> parsed condition (or the callable), every string checked before any is evaluated."""
    return {r["name"]: parse_condition(r["condition"], f"RuleLeadScorer rule {r['name']!r}")
            if isinstance(r["condition"], str) else r["condition"] for r in rules}


def _points_range(rules) -> tuple[float, float]:
    """(min_points, max_points): the sums of the negative and of the positive points."""
    pts = np.array([r["points"] for r in rules])
    return float(pts[pts < 0].sum()), float(pts[pts > 0].sum())


class RuleLeadScorer(BaseEstimator):
    """Points-based lead scoring from weighted rules: BANT by default, or any rules you write.

    Each rule is a condition on the lead (a string in crmml's rule language, the
    pandas query syntax without anything that could run code, such as
    ``"employees >= 50 and source == 'referral'"`` -- see :class:`crmml.RuleError`
    for the grammar -- or a callable ``frame -> boolean array``) and a number of
    points (negative points allowed, at most 1e12 in absolute value). A callable
    must return True/False per lead (an array, or a Series indexed like the
    frame it was given).
    When events are given, the engagement features of
    :func:`lead_event_features` (``events_<type>_count``, ``events_7d_count``,
    ``days_since_last_event``, ...) can be used in conditions too; mark such
    rules ``"kind": "engagement"``. A rule may name any event type present in
    ``events`` (its count is 0 for a lead with no such event before its scoring
    time, even when the type first occurs later). A condition that is
    missing/NaN for a lead does not match.

    The score is ``100 * (points - min_points) / (max_points - min_points)``
    (0 when no positive rule matches and every negative one does, 100 for the
    opposite), ``fit_score`` and ``engagement_score`` the same over the rules
    of each kind (NaN without engagement rules). ``probability`` is
    ``score / 100`` -- a rank, not a probability -- unless ``fit`` saw labelled
    leads, in which case Platt scaling of the score on those leads makes it
    one. The output has the same shape as :meth:`LeadScorer.score_leads`.

    Condition strings are parsed at ``fit`` and before every scoring, before any
    is evaluated: syntax outside the rule language raises
    :class:`crmml.RuleError`, a condition naming a missing column raises
    :class:`crmml.SchemaError` listing the available columns.

    Saving: condition strings are data and the fitted scorer can be saved with
    :mod:`crmml.persistence` (loading re-checks every rule); callable
    conditions cannot be saved (use them for experiments only).

    Parameters
    ----------
    rules : list of dict or dict, optional
        ``[{"name": ..., "condition": ..., "points": ..., "kind": "fit"|"engagement"}, ...]`` or
        ``{name: (condition, points[, kind])}``. Default :data:`BANT_RULES` (25 points each for
        0/1 columns ``budget``, ``authority``, ``need``, ``timeline``).
    grade_thresholds : tuple of 3 floats, default=(75, 50, 25)
        Score cutoffs of grades A, B and C.

    Attributes
    ----------
    rules_ : list of dict
        The normalised rules.
    min_points_, max_points_ : float
    calibrator_ : ProbabilityCalibrator or None
        Fitted when ``fit`` received leads with ``converted``.

    Examples
    --------
    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": [1, 2], "budget": [1, 0], "authority": [1, 1],
    ...                       "need": [1, 0], "timeline": [0, 0]})
    >>> RuleLeadScorer().fit().score_leads(leads)[["score", "grade"]]
             score grade
    lead_id
    1           75     A
    2           25     C
    """

    def __init__(self, rules=None, grade_thresholds=(75, 50, 25)):
        self.rules = rules
        self.grade_thresholds = grade_thresholds

    def fit(self, leads=None, events=None, *, as_of=None, columns=None, event_columns=None):
        """Check the rules; with labelled ``leads``, also learn a probability calibration of the score."""
        self._cutoffs_()
        if as_of is not None:
            check_as_of(as_of, "RuleLeadScorer.fit")     # refused even where unused (no leads or events)
        rules = _normalise_rules(self.rules)
        _conditions(rules)
        self.rules_ = rules
        self.min_points_, self.max_points_ = _points_range(rules)
        if self.max_points_ == self.min_points_:
            raise ParameterError("The 'rules' parameter of RuleLeadScorer must give some rule non-zero points. "
                                 f"Got {self.rules!r} instead.")
        self.calibrator_ = None
        if leads is not None:
            raw, _ = self._raw(leads, events, as_of, columns, event_columns)
            lab = validate_leads(leads, columns)
            if "converted" in lab.columns and lab["converted"].nunique() == 2:
                self.calibrator_ = ProbabilityCalibrator("sigmoid").fit(
                    np.clip(raw["score"].to_numpy() / 100.0, 0.005, 0.995), lab["converted"].to_numpy())
        return self

    def _frame(self, leads, events, as_of, columns, event_columns):
        if as_of is not None:
            check_as_of(as_of, "RuleLeadScorer")
        leads = validate_leads(leads, columns)
        if events is not None:
            # a rule may name any event type of ``events``; it is counted before each lead's scoring time only
            events = prepare_events(events, event_columns)
            ev = lead_event_features(leads, events, as_of=as_of,
                                     event_types=sorted(events["event_type"].unique().tolist()))
            leads = pd.concat([leads.reset_index(drop=True), ev.reset_index(drop=True)], axis=1)
        return leads

    def matches(self, leads, events=None, *, as_of=None, columns=None, event_columns=None) -> pd.DataFrame:
        """Boolean frame (leads x rules): which rule matches which lead. Indexed by ``lead_id``."""
        check_is_fitted(self, "rules_")
        frame = self._frame(leads, events, as_of, columns, event_columns)
        out = {}
        for name, cond in _conditions(self.rules_).items():
            if not callable(cond):
                out[name] = cond.evaluate(frame, "leads")
                continue
            try:
                m = cond(frame)
            except Exception as exc:  # noqa: BLE001 - the user's callable; re-raised with the rule named
                raise RuleError(f"Rule {name!r} of RuleLeadScorer (a callable) could not be evaluated: "
                                f"{type(exc).__name__}: {exc}") from exc
            out[name] = _callable_mask(m, frame, name)
        return pd.DataFrame(out, index=pd.Index(frame["lead_id"].to_numpy(), name="lead_id"))

    def _check_loaded_state(self) -> None:
        """Check a scorer read from a model file (called by :func:`crmml.persistence.load`).

        Every condition must be a string in the rule language (so a rule rewritten in the file cannot run
        code), and the fitted ``rules_`` and point range must follow from ``rules``; raises
        :class:`crmml.RuleError` (or ``ValueError`` for malformed rules).
        """
        rules = _normalise_rules(self.rules)
        if any(not isinstance(r["condition"], str) for r in rules):
            raise RuleError("A loaded RuleLeadScorer may hold only condition strings, not callables.")
        _conditions(rules)
        if fitted_attrs(self, ("rules_", "calibrator_")) and self.calibrator_ is not None:
            from crmml._utils._calibration import check_calibrator

            check_calibrator(self.calibrator_)
        if hasattr(self, "rules_"):
            if not isinstance(self.rules_, list) or self.rules_ != rules:
                raise RuleError("The loaded RuleLeadScorer's rules_ do not follow from its 'rules' parameter: "
                                "the file was altered.")
            if (getattr(self, "min_points_", None), getattr(self, "max_points_", None)) != _points_range(rules):
                raise RuleError("The loaded RuleLeadScorer's min_points_/max_points_ do not follow from its "
                                "rules: the file was altered.")

    def _scale(self, M, kinds):
        rules = [r for r in self.rules_ if r["kind"] in kinds]
        if not rules:
            return None
        pts = np.array([r["points"] for r in rules])
        hi, lo = pts[pts > 0].sum(), pts[pts < 0].sum()
        got = row_dot(M[[r["name"] for r in rules]].to_numpy(float), pts)     # per lead, in rule order
        return 100.0 * (got - lo) / (hi - lo) if hi > lo else np.full(len(M), np.nan)

    def _raw(self, leads, events, as_of, columns, event_columns):
        M = self.matches(leads, events, as_of=as_of, columns=columns, event_columns=event_columns)
        return pd.DataFrame({"score": self._scale(M, ("fit", "engagement"))}, index=M.index), M

    def score_leads(self, leads, events=None, *, as_of=None, columns=None, event_columns=None) -> pd.DataFrame:
        """Score leads: ``probability``, ``score`` (0-100), ``grade``, ``fit_score``, ``engagement_score``."""
        check_is_fitted(self, "rules_")
        M = self.matches(leads, events, as_of=as_of, columns=columns, event_columns=event_columns)
        s = self._scale(M, ("fit", "engagement"))
        if self.calibrator_ is not None:
            p = self.calibrator_.transform(np.clip(s / 100.0, 0.005, 0.995))
        else:
            p = s / 100.0
        out = pd.DataFrame({"probability": p, "score": np.rint(s).astype("int64"),
                            "grade": assign_grades(s, self._cutoffs_())}, index=M.index)
        fit_s, eng_s = self._scale(M, ("fit",)), self._scale(M, ("engagement",))
        out["fit_score"] = np.rint(fit_s).astype("int64") if fit_s is not None else out["score"]
        out["engagement_score"] = np.rint(eng_s) if eng_s is not None else np.nan
        return out[OUTPUT_COLUMNS]

    def _cutoffs_(self):
        return check_thresholds(self.grade_thresholds, "grade_thresholds", "RuleLeadScorer", 0, 100)

    def explain(self, leads, events=None, *, top_n=3, as_of=None, columns=None, event_columns=None):
        """Matched rules with positive points (for) and with negative points or unmatched positive rules
        (against), as text like ``"budget: budget > 0 (+25)"``; same columns as :meth:`LeadScorer.explain`."""
        check_number(top_n, "top_n", "RuleLeadScorer.explain", low=1)
        scores = self.score_leads(leads, events, as_of=as_of, columns=columns, event_columns=event_columns)
        M = self.matches(leads, events, as_of=as_of, columns=columns, event_columns=event_columns)
        order = sorted(self.rules_, key=lambda r: -abs(r["points"]))
        pos, neg = [], []
        for i in range(len(M)):
            row = M.iloc[i]
            p, n = [], []
            for r in order:
                cond = r["condition"] if isinstance(r["condition"], str) else "custom rule"
                if row[r["name"]] and r["points"] > 0:
                    p.append(f"{r['name']}: {cond} ({r['points']:+g})")
                elif row[r["name"]] and r["points"] < 0:
                    n.append(f"{r['name']}: {cond} ({r['points']:+g})")
                elif not row[r["name"]] and r["points"] > 0:
                    n.append(f"{r['name']}: not met (0 of {r['points']:+g})")
            pos.append("; ".join(p[:top_n]))
            neg.append("; ".join(n[:top_n]))
        rs = pd.DataFrame({"top_positive": pos, "top_negative": neg}, index=scores.index)
        return pd.concat([scores[["score", "grade"]], rs], axis=1)

    def evaluate(self, leads, events=None, *, as_of=None, columns=None, event_columns=None, n_bins=10) -> dict:
        """Evaluate on labelled leads: the dict of :func:`evaluate_lead_scores`."""
        lab = validate_leads(leads, columns, require_label=True)
        out = self.score_leads(leads, events, as_of=as_of, columns=columns, event_columns=event_columns)
        return evaluate_lead_scores(lab["converted"].to_numpy(), out["probability"].to_numpy(),
                                    out["grade"].to_numpy(), n_bins=n_bins)
