"""The frames of the point-in-time sweeps (tests/test_point_in_time_sweep.py and
tests/spark/test_spark_point_in_time.py): a small synthetic CRM, its frames cut just before a cut-off, the same CRM
plus hostile rows at and after it; ``same``: two outputs equal bit for bit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2024-06-01")
NEW = 900_001                      # ids of customers, products and leads that exist only in the hostile rows


def small_crm(n_customers=160, n_leads=400):
    from crmml.datasets import make_synthetic_crm

    c = make_synthetic_crm(n_customers=n_customers, seed=11, n_leads=n_leads)
    text = {"category": str, "channel": str}        # plain text, so appended values keep the column's dtype
    tx = c.transactions.astype(text)
    ev = c.events.astype({"event_type": str})
    lev = c.lead_events.astype({"event_type": str})
    first = tx.groupby("customer_id")["timestamp"].min()
    cu = c.customers.copy()
    # a signup after a customer's first purchase would make the two runs differ for a reason other than a leak
    cu["signup_date"] = np.minimum(cu["signup_date"], cu["customer_id"].map(first).fillna(cu["signup_date"]))
    return SimpleNamespace(tx=tx, ev=ev, cu=cu, leads=c.leads, lev=lev, products=c.products)


def cut(c, at):
    """The frames as they were just before ``at``: rows before it, customers signed up before it."""
    def before(df):
        return df[df["timestamp"] < at].reset_index(drop=True)

    cu = c.cu[c.cu["signup_date"] < at].reset_index(drop=True)
    return SimpleNamespace(tx=before(c.tx), ev=before(c.ev), cu=cu, leads=c.leads, lev=before(c.lev),
                           products=c.products)


def hostile(c, at):
    """``c`` plus rows at and after ``at`` that nothing reading before ``at`` may see."""
    ids = np.sort(c.tx.loc[c.tx["timestamp"] < at, "customer_id"].unique())[:12]
    new = np.arange(NEW, NEW + 6)
    when = [at, at + pd.Timedelta(1, "ns"), at + pd.Timedelta(days=3), at + pd.DateOffset(years=30)]
    rows = []
    for k, t in enumerate(when):
        for i in ids:
            rows.append((i, t, [1e12, -5e11, 3.5, 777.0][k], NEW + k, "cat_new" if k % 2 else "cat_00",
                         1e6 if k == 0 else 1.0, "phone" if k != 2 else "online"))
        for i in new:
            rows.append((i, t, 50.0 + k, NEW + 10 + k, "cat_new", 2.0, "phone"))
    tid0 = int(c.tx["transaction_id"].max()) + 1
    extra = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "product_id", "category",
                                        "quantity", "channel"])
    extra["transaction_id"] = np.arange(tid0, tid0 + len(extra))
    tx = pd.concat([c.tx, extra[c.tx.columns]], ignore_index=True)

    ev_rows = [(i, t, typ) for t in when for i in [*ids, *new] for typ in ("survey", "web_visit", "complaint")]
    ev = pd.concat([c.ev, pd.DataFrame(ev_rows, columns=c.ev.columns)], ignore_index=True)

    lids = c.leads["lead_id"].to_numpy()
    lev_rows = [(i, t, typ) for t in when for i in [*lids[:40], NEW] for typ in ("webinar", "demo_request")]
    lev = pd.concat([c.lev, pd.DataFrame(lev_rows, columns=c.lev.columns)], ignore_index=True)

    signups = [at, at + pd.Timedelta(days=1), at + pd.DateOffset(years=30)]
    new_cu = pd.DataFrame({"customer_id": np.arange(NEW + 20, NEW + 20 + len(signups)),
                           "signup_date": pd.to_datetime(signups)})
    for col in c.cu.columns.drop(["customer_id", "signup_date"]):
        new_cu[col] = c.cu[col].iloc[:len(signups)].to_numpy()
    # the customers who buy only after `at` signed up then too
    new_buyers = pd.DataFrame({"customer_id": new, "signup_date": at + pd.Timedelta(days=2)})
    for col in new_cu.columns.drop(["customer_id", "signup_date"]):
        new_buyers[col] = c.cu[col].iloc[0]
    cu = pd.concat([c.cu, new_cu, new_buyers], ignore_index=True).astype(c.cu.dtypes.to_dict())
    return SimpleNamespace(tx=tx, ev=ev, cu=cu, leads=c.leads, lev=lev, products=c.products)


def same(a, b, where="output"):
    """``a`` and ``b`` equal bit for bit (frames, arrays, dicts, numbers; NaN equals NaN)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where, strict=True)
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} != {len(b)}"
        for k, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{k}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), f"{where}: nan != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"
