"""Warnings whose counts add up over parts of the data (``crmml.spark`` buckets of customers).

A warning about "33 customers with only returns" raised on each part of the customers says 33 in total
when its counts are summed. :func:`warn_counts` keeps the message's template and its numbers on the warning
(``crmml_counts``), so :mod:`crmml.spark._warnings` can sum them over the buckets and re-issue the warning the
whole data would give. Lists (examples) are merged: sorted, without repeats, at most ``examples`` of them.
"""

from __future__ import annotations

import warnings

__all__ = ["warn_counts", "merge_fields"]


def warn_counts(category, template: str, *, stacklevel: int = 2, examples: int = 5, **fields) -> None:
    """``warnings.warn(template.format(**fields), category)`` with ``(template, fields, examples)`` kept on the
    warning.

    ``fields`` are ints (counts, summed over parts) or lists (at most ``examples`` examples); the template's own
    text must not hold braces other than the fields'.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_counts(UserWarning, "{n:,} rows dropped", n=1234)
    >>> str(w[0].message), w[0].message.crmml_counts
    ('1,234 rows dropped', ('{n:,} rows dropped', {'n': 1234}, 5))
    """
    message = category(template.format(**fields))
    message.crmml_counts = (template, dict(fields), examples)
    warnings.warn(message, stacklevel=stacklevel + 1)


def merge_fields(a: dict, b: dict, examples: int = 5) -> dict:
    """The fields of one warning over two parts: counts summed, example lists merged (at most ``examples``).

    >>> merge_fields({"n": 2, "ex": [5, 1]}, {"n": 3, "ex": [4, 1]}, examples=2)
    {'n': 5, 'ex': [1, 4]}
    """
    out = {}
    for k, v in a.items():
        w = b.get(k, type(v)())
        if isinstance(v, list):
            merged = sorted(set(v) | set(w), key=lambda x: (str(type(x)), x))
            out[k] = merged[:examples]
        else:
            out[k] = v + w
    return out
