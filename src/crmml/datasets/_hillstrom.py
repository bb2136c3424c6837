"""Kevin Hillstrom's MineThatData e-mail test (2008): a randomised three-arm campaign, for uplift modelling."""

from __future__ import annotations

import pandas as pd

from crmml.datasets._loaders import _shared_file

__all__ = ["load_hillstrom"]

#: customer features of the test (``history_segment`` is a binned copy of ``history`` and is left out)
HILLSTROM_FEATURES = ["recency", "history", "mens", "womens", "zip_code", "newbie", "channel"]


def load_hillstrom() -> pd.DataFrame:
    """The 64,000 customers of the MineThatData e-mail test, from ``<shared data>/hillstrom_email``.

    Columns as published: ``recency``, ``history_segment``, ``history``, ``mens``, ``womens``,
    ``zip_code``, ``newbie``, ``channel`` (features), ``segment`` (the arm: ``"Mens E-Mail"``,
    ``"Womens E-Mail"``, ``"No E-Mail"``) and the two-week outcomes ``visit``, ``conversion``, ``spend``.
    Raises :class:`DatasetNotFoundError` when the shared data folder is absent.

    Examples
    --------
    >>> df = load_hillstrom()                                    # doctest: +SKIP
    >>> df["segment"].value_counts().to_dict()                   # doctest: +SKIP
    {'Womens E-Mail': 21387, 'Mens E-Mail': 21307, 'No E-Mail': 21306}
    """
    df = pd.read_csv(_shared_file("hillstrom_email/hillstrom.csv.gz"))
    for c in ("zip_code", "channel", "segment", "history_segment"):
        df[c] = df[c].astype(str)
    return df
