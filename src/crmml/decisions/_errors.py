"""Named errors and warnings of crmml.decisions (each subclasses ValueError / UserWarning)."""

from __future__ import annotations

from crmml.exceptions import CrmmlError, CrmmlWarning

__all__ = ["HorizonMismatchError", "NotRandomisedWarning", "TreatmentError"]


class HorizonMismatchError(ValueError, CrmmlError):
    """The churn model and the CLV model of a retention plan do not describe the same horizon or cutoff.

    >>> issubclass(HorizonMismatchError, ValueError)
    True
    """


class TreatmentError(ValueError, CrmmlError):
    """The treatment column cannot define an experiment: a single arm, or the control arm is absent.

    >>> issubclass(TreatmentError, ValueError)
    True
    """


class NotRandomisedWarning(CrmmlWarning):
    """Arm shares vary with the features: the data do not look like a randomised test, so effects may be biased.

    >>> issubclass(NotRandomisedWarning, UserWarning)
    True
    """
