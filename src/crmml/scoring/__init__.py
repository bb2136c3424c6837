"""Lead scoring: calibrated 0-100 scores, grades A-D, fit/engagement sub-scores and per-lead reasons.

- :class:`LeadScorer` learns from labelled leads (logistic regression or xgboost, chosen by cross-validation).
- :class:`RuleLeadScorer` scores with weighted rules (BANT by default) when no labelled history exists.
- :func:`lead_event_features` builds point-in-time engagement features from lead events.
- :func:`evaluate_lead_scores` and :func:`plot_gains` evaluate any lead score.
"""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.scoring._evaluate": ("evaluate_lead_scores", "plot_gains"),
    "crmml.scoring._features": ("lead_event_features",),
    "crmml.scoring._rules": ("BANT_RULES", "RuleLeadScorer"),
    "crmml.scoring._scorer": ("InsufficientDataWarning", "LeadScorer"),
}

__all__ = [
    "BANT_RULES",
    "InsufficientDataWarning",
    "LeadScorer",
    "RuleLeadScorer",
    "evaluate_lead_scores",
    "lead_event_features",
    "plot_gains",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
