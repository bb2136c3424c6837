"""Loaders for the real datasets crmml uses, returned in the standard schema.

Sources (see ``../shared/data/README.md`` and ``datasets/README.md``):

- CDNOW (Fader, Hardie & Lee 2005), shipped in ``datasets/`` (the file lifetimes distributes).
- UCI Online Retail (Chen, Sain & Guo 2012), CC BY 4.0.
- UCI Bank Marketing (Moro, Cortez & Rita 2014), CC BY 4.0.
- The online grocery event log of Platzer & Reutterer (2016), BTYDplus (GPL-3); not shipped.

Nothing is downloaded: files come from the small samples shipped in ``datasets/`` or from ``../shared/data`` (override the
folder with the ``CRMML_SHARED_DATA`` environment variable).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from crmml.exceptions import CrmmlError
from crmml.schema import validate_leads, validate_transactions

__all__ = [
    "DatasetNotFoundError",
    "shared_data_dir",
    "load_cdnow",
    "load_cdnow_summary",
    "load_online_retail",
    "load_bank_marketing",
    "load_grocery",
]


class DatasetNotFoundError(FileNotFoundError, CrmmlError):
    """A dataset file is not where crmml looks for it.

    >>> from crmml.datasets import DatasetNotFoundError, load_online_retail
    >>> try:
    ...     load_online_retail(path="no/such/online_retail.csv.gz")
    ... except DatasetNotFoundError as e:
    ...     print(type(e).__name__, isinstance(e, FileNotFoundError))
    DatasetNotFoundError True
    """


def shared_data_dir() -> Path | None:
    """The ``shared/data`` folder: ``$CRMML_SHARED_DATA``, else the first
    ``../shared/data`` found above the working directory or this package (None when there is none).

    >>> from crmml.datasets import shared_data_dir
    >>> folder = shared_data_dir()
    >>> folder is None or (folder / "README.md").exists()
    True
    """
    env = os.environ.get("CRMML_SHARED_DATA")
    if env:
        return Path(env)
    for start in (Path.cwd(), Path(__file__).resolve()):
        for parent in [start, *start.parents]:
            cand = parent / "shared" / "data"
            if cand.is_dir() and (cand / "README.md").exists():
                return cand
    return None


def _shared_file(rel: str) -> Path:
    root = shared_data_dir()
    path = root / rel if root else None
    if path is None or not path.exists():
        raise DatasetNotFoundError(
            f"{rel} was not found (looked in {root or '../shared/data above the working directory'}). "
            "Set CRMML_SHARED_DATA to the folder that holds it, or use sample=True for the small "
            "sample shipped with crmml.")
    return path


def _given_file(path) -> Path:
    """An explicit ``path=`` of a loader, which must exist."""
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"{path} was not found; pass the path of the dataset file, or leave path unset "
                                   "to read the copy crmml finds itself.")
    return path


def _shipped_file(name: str) -> Path:
    """A file of the top-level ``datasets/`` folder (source checkout or installed wheel)."""
    here = Path(__file__).resolve()
    for cand in (here.parents[3] / "datasets" / name,
                 here.parents[1] / "_shipped_datasets" / name):
        if cand.exists():
            return cand
    raise DatasetNotFoundError(f"the shipped sample {name} is missing from this installation")


def load_cdnow() -> pd.DataFrame:
    """CDNOW master data: 69,659 transactions of 23,570 customers, 1997-01-01..1998-06-30.

    Read from the copy shipped in ``datasets/cdnow_master.txt.gz`` (the file the
    ``lifetimes`` package distributes; source and attribution in ``datasets/README.md``).
    Columns: ``customer_id``, ``timestamp`` (day), ``amount`` (dollars), ``quantity`` (CDs).

    Examples
    --------
    >>> from crmml.datasets import load_cdnow
    >>> tx = load_cdnow()
    >>> tx.shape, tx["customer_id"].nunique()
    ((69659, 4), 23570)
    """
    raw = pd.read_csv(_shipped_file("cdnow_master.txt.gz"), sep=r"\s+", header=0,
                      names=["customer_id", "date", "quantity", "amount"],
                      dtype={"customer_id": "int64", "date": "str"})
    raw["timestamp"] = pd.to_datetime(raw.pop("date"), format="%Y%m%d")
    return validate_transactions(raw[["customer_id", "timestamp", "amount", "quantity"]])


def load_cdnow_summary() -> pd.DataFrame:
    """The 2,357-customer CDNOW sample of the BG/NBD paper as a summary table.

    Columns ``frequency``, ``recency``, ``T`` (weeks, calibration to 1997-09-30) and
    ``monetary_value`` (mean value of the repeat purchases, dollars), indexed by
    ``customer_id``; used for golden-value tests. Shipped in ``datasets/cdnow_sample_summary.csv``.

    Examples
    --------
    >>> from crmml.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> len(s), list(s.columns), int((s["frequency"] > 0).sum())
    (2357, ['frequency', 'recency', 'T', 'monetary_value'], 946)
    """
    df = pd.read_csv(_shipped_file("cdnow_sample_summary.csv"))
    return df.rename(columns={"ID": "customer_id"}).set_index("customer_id")


def load_online_retail(*, sample: bool = False, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """UCI Online Retail invoices (UK gift retailer, 2010-12-01..2011-12-09) as transactions.

    One row per invoice line: ``transaction_id`` (InvoiceNo), ``product_id``
    (StockCode), ``quantity``, ``amount = Quantity * UnitPrice``, ``customer_id``,
    ``timestamp`` and the extra columns ``description`` and ``country``.
    Cancellations (InvoiceNo starting with "C") keep their negative quantity and
    amount: they are returns, netted by monetary features. Documented rule: the
    135,080 lines without a CustomerID cannot be attributed to any customer and
    are left out.

    Parameters
    ----------
    sample : bool, default=False
        Read the small sample shipped in ``datasets/`` (1,500 customers' complete
        histories) instead of the full file in ``../shared/data``.
    path : path-like, optional
        An explicit path to ``online_retail.csv.gz`` (or the sample).

    Examples
    --------
    >>> from crmml.datasets import load_online_retail
    >>> tx = load_online_retail(sample=True)
    >>> len(tx), tx["customer_id"].nunique(), int((tx["amount"] < 0).sum() > 0)
    (144651, 1500, 1)
    """
    src = _given_file(path) if path else (_shipped_file("online_retail_sample.csv.gz") if sample
                                   else _shared_file("online_retail/online_retail.csv.gz"))
    raw = pd.read_csv(src, dtype={"InvoiceNo": "str", "StockCode": "str", "Description": "str",
                                  "Country": "str"})
    raw = raw[raw["CustomerID"].notna()]
    out = pd.DataFrame({
        "customer_id": raw["CustomerID"].astype("int64").to_numpy(),
        "timestamp": pd.to_datetime(raw["InvoiceDate"]).to_numpy(),
        "amount": (raw["Quantity"] * raw["UnitPrice"]).round(2).to_numpy(),
        "transaction_id": raw["InvoiceNo"].to_numpy(),
        "product_id": raw["StockCode"].str.upper().to_numpy(),
        "quantity": raw["Quantity"].astype("float64").to_numpy(),
        "description": raw["Description"].to_numpy(),
        "country": raw["Country"].to_numpy(),
    })
    return validate_transactions(out)


def load_bank_marketing(*, sample: bool = False, drop_duration: bool = True, created_at: bool = True,
                        path: str | os.PathLike | None = None) -> pd.DataFrame:
    """UCI Bank Marketing (bank-additional-full, 41,188 calls) as a leads frame.

    ``lead_id`` is the row number (1-based); ``converted`` is ``y == "yes"``;
    the other columns are attributes with dots replaced by underscores
    (``emp.var.rate`` becomes ``emp_var_rate``). ``duration`` is the call length,
    known only after the call, and leaks the outcome (Moro et al. 2014), so it is
    dropped unless ``drop_duration=False``.

    ``created_at`` is the first day of the month of the call: the file gives the
    month but not the year, and its rows are ordered by date from May 2008 to
    November 2010 (Moro et al. 2014), so the year starts at 2008 and rises
    each time the month goes back. It lets a lead scorer validate forward in
    time (the conversion rate rises from 3% to about 50% over these years).

    Parameters
    ----------
    sample : bool, default=False
        Read the copy shipped in ``datasets/`` (the full 41,188 rows, gzipped).
    created_at : bool, default=True
        Add the reconstructed ``created_at`` (see above).

    Examples
    --------
    >>> from crmml.datasets import load_bank_marketing
    >>> leads = load_bank_marketing(sample=True)
    >>> len(leads), "duration" in leads.columns, round(float(leads["converted"].mean()), 3)
    (41188, False, 0.113)
    """
    src = _given_file(path) if path else (_shipped_file("bank_marketing.csv.gz") if sample
                                   else _shared_file("bank_marketing/bank-additional-full.csv"))
    raw = pd.read_csv(src, sep=";")
    raw.columns = [c.replace(".", "_") for c in raw.columns]
    if drop_duration:
        raw = raw.drop(columns=["duration"])
    raw.insert(0, "lead_id", np.arange(1, len(raw) + 1, dtype=np.int64))
    raw["converted"] = raw.pop("y")
    if created_at and "month" in raw.columns:
        month = raw["month"].astype(str).str.lower().map(_MONTH_NUMBER)
        if month.notna().all():
            year = 2008 + (month.diff() < 0).cumsum()
            raw.insert(1, "created_at", pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1})))
    return validate_leads(raw, require_label=True)


_MONTH_NUMBER = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                                 "oct", "nov", "dec"))}


def load_grocery(*, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The online grocery purchase log (1,525 customers, 2006-01-01..2007-12-30).

    A purchase log without values: ``amount`` is NaN on every row, so use it for
    purchase-count models (BG/NBD, Pareto/NBD), not for spend. Not shipped (GPL-3).

    Examples
    --------
    >>> from crmml.datasets import DatasetNotFoundError, load_grocery
    >>> try:
    ...     log = load_grocery()
    ... except DatasetNotFoundError:      # set CRMML_SHARED_DATA to the folder that holds grocery_elog/
    ...     log = None
    >>> log is None or (len(log), log["customer_id"].nunique()) == (10483, 1525)
    True
    """
    src = _given_file(path) if path else _shared_file("grocery_elog/groceryElog.csv")
    raw = pd.read_csv(src)
    out = pd.DataFrame({"customer_id": raw["cust"].astype("int64"),
                        "timestamp": pd.to_datetime(raw["date"]),
                        "amount": np.nan})
    return validate_transactions(out, allow_missing_amount=True)
