"""Named errors and warnings of crmml.decisions (each subclasses ValueError / UserWarning)."""

from __future__ import annotations

__all__ = ["HorizonMismatchError", "NotRandomisedWarning", "TreatmentError"]


class HorizonMismatchError(ValueError):
    """The churn model and the CLV model of a retention plan do not describe the same horizon or cutoff.

    >>> issubclass(HorizonMismatchError, ValueError)
    True
    """


class TreatmentError(ValueError):
    """The treatment column cannot define an experiment: a single arm, or the control arm is absent.

    >>> issubclass(TreatmentError, ValueError)
    True
    """


class NotRandomisedWarning(UserWarning):
    """Arm shares vary with the features: the data do not look like a randomised test, so effects may be biased.

    >>> issubclass(NotRandomisedWarning, UserWarning)
    True
    """
