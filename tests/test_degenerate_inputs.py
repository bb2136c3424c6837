"""Degenerate but valid data at every public entry point: a well-formed result, or a named crmml error.

Each case below is a small CRM that the schema accepts but that is unusual in shape or range: one customer, one
transaction, every row at one instant, amounts all 0 or all returns, one product, dates at 1970 and near pandas'
limits, a non-UTC time zone, cut-offs before, at and long after the rows, ids that are huge integers or text, missing
optional values, leads of one class, events of one type. Every entry point of the point-in-time sweep
(tests/test_point_in_time_sweep.py, its ``_cases`` at the case's cut-off, with models fitted on the case's own
frames) plus the estimators without a cut-off runs on each. The outcome must be one of:

- a result: numbers finite (no inf in any numeric output; NaN only where the output documents it), and an empty
  frame only together with a crmml warning saying why;
- an exception of a class defined in crmml (``SchemaError``, ``AsOfError``, ``NoHistoryError``, ...) raised by
  crmml's own code (the innermost traceback frame is in ``src/crmml``), never a bare error from inside pandas,
  numpy, scikit-learn or xgboost.
"""

from __future__ import annotations

import traceback
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from _pit import AS_OF, cut, small_crm
from test_point_in_time_sweep import _cases, _Models

TX_FRAMES = ("tx", "ev", "cu")


@pytest.fixture(scope="module")
def tiny():
    """A CRM of 30 customers and 120 leads, from 2023-01 to 2024-12 (AS_OF: 2024-06-01)."""
    return small_crm(n_customers=30, n_leads=120)


# ------------------------------------------------------------------------------------------------------ data cases
def _with(b, **frames):
    return SimpleNamespace(**{**vars(b), **frames})


def _moved(t, start, to):
    """``t`` moved by ``to - start`` (in two steps: from 2023 to 1677 is more than a Timedelta holds)."""
    d = to.value - start.value
    return t + pd.Timedelta(d // 2, "ns") + pd.Timedelta(d - d // 2, "ns")


def _first(b):
    return min(b.tx["timestamp"].min(), b.ev["timestamp"].min(), b.cu["signup_date"].min()).normalize()


def _move(b, to, start=None):
    """Every timestamp (transactions, events, signups) moved so that the day of the first is ``to``."""
    start = _first(b) if start is None else start
    return _with(b, tx=b.tx.assign(timestamp=_moved(b.tx["timestamp"], start, to)),
                 ev=b.ev.assign(timestamp=_moved(b.ev["timestamp"], start, to)),
                 cu=b.cu.assign(signup_date=_moved(b.cu["signup_date"], start, to)))


def _customers(b, ids):
    return _with(b, tx=b.tx[b.tx["customer_id"].isin(ids)].reset_index(drop=True),
                 ev=b.ev[b.ev["customer_id"].isin(ids)].reset_index(drop=True),
                 cu=b.cu[b.cu["customer_id"].isin(ids)].reset_index(drop=True))


def _ids(b, f):
    """Customer ids mapped by ``f`` in every frame."""
    return _with(b, **{k: getattr(b, k).assign(customer_id=getattr(b, k)["customer_id"].map(f)) for k in TX_FRAMES})


def _at(b, when):
    """Every transaction and event at ``when``; signups a day before."""
    return _with(b, tx=b.tx.assign(timestamp=when), ev=b.ev.assign(timestamp=when),
                 cu=b.cu.assign(signup_date=when - pd.Timedelta(days=1)))


def _last_ns(b):
    """Customers 1-3 bought only at ``AS_OF - 1ns``."""
    tx = b.tx.copy()
    few = tx["customer_id"].isin([1, 2, 3])
    tx.loc[few, "timestamp"] = AS_OF - pd.Timedelta(1, "ns")
    return _with(b, tx=tx)


def _nan_optional(b):
    tx = b.tx.astype({"product_id": "float64", "category": object, "channel": object})
    every = np.arange(len(tx)) % 3 == 0
    tx.loc[every, ["product_id", "category", "channel"]] = np.nan
    return _with(b, tx=tx)


def _returns(b, which):
    tx = b.tx.copy()
    rows = tx["customer_id"].isin(which) if which is not None else slice(None)
    tx.loc[rows, "amount"] = -tx.loc[rows, "amount"].abs()
    return _with(b, tx=tx)


def _one_day(b):
    """Every row within 2024-05-31, in the order it had."""
    def squeeze(s):
        lo, hi = s.min(), s.max()
        return pd.Timestamp("2024-05-31") + (s - lo) / max((hi - lo) / pd.Timedelta(hours=23), 1)
    tx, ev = b.tx.copy(), b.ev.copy()
    tx["timestamp"], ev["timestamp"] = squeeze(tx["timestamp"]), squeeze(ev["timestamp"])
    return _with(b, tx=tx, ev=ev, cu=b.cu.assign(signup_date=pd.Timestamp("2024-05-30")))


def _tz(b, zone):
    return _with(b, tx=b.tx.assign(timestamp=b.tx["timestamp"].dt.tz_localize("UTC").dt.tz_convert(zone)),
                 ev=b.ev.assign(timestamp=b.ev["timestamp"].dt.tz_localize("UTC").dt.tz_convert(zone)))


def _leads_one_class(b, label):
    return _with(b, leads=b.leads.assign(converted=label))


def _one_event_type(b):
    return _with(b, ev=b.ev.assign(event_type="web_visit"), lev=b.lev.assign(event_type="web_visit"))


#: ``name -> (make(base) -> frames, as_of(base) -> cut-off, which entry points: "tx" or "leads" or "all")``
DATA = {
    "one customer": (lambda b: _customers(b, [b.tx["customer_id"].value_counts().index[0]]), None, "tx"),
    "one transaction": (lambda b: _with(_customers(b, [1]), tx=b.tx.iloc[:1]), None, "tx"),
    "one instant": (lambda b: _at(b, pd.Timestamp("2024-03-01 12:00")), None, "tx"),
    "amounts all 0": (lambda b: _with(b, tx=b.tx.assign(amount=0.0)), None, "tx"),
    "some customers only returns": (lambda b: _returns(b, range(1, 8)), None, "tx"),
    "only returns": (lambda b: _returns(b, None), None, "tx"),
    "one product": (lambda b: _with(b, tx=b.tx.assign(product_id=7, category="cat_00")), None, "tx"),
    "from 1970-01-01": (lambda b: _move(b, pd.Timestamp("1970-01-01")),
                        lambda b: _moved(AS_OF, _first(b), pd.Timestamp("1970-01-01")),
                        "tx"),
    "from 1677-09-22": (lambda b: _move(b, pd.Timestamp("1677-09-22")),
                        lambda b: _moved(AS_OF, _first(b), pd.Timestamp("1677-09-22")),
                        "tx"),
    "until 2262-04-10": (lambda b: _move(cut(b, AS_OF + pd.Timedelta(days=1)), pd.Timestamp("2262-04-10"), AS_OF),
                         lambda b: pd.Timestamp("2262-04-10"), "tx"),
    "tz Asia/Kolkata": (lambda b: _tz(b, "Asia/Kolkata"), None, "tx"),
    "as_of before every row": (lambda b: b, lambda b: b.tx["timestamp"].min() - pd.Timedelta(days=30), "tx"),
    "as_of at the first row": (lambda b: b, lambda b: b.tx["timestamp"].min(), "tx"),
    "as_of years after": (lambda b: b, lambda b: AS_OF + pd.DateOffset(years=6), "tx"),
    "one day of history": (_one_day, None, "tx"),
    "only rows at as_of - 1ns": (_last_ns, None, "tx"),
    "ids 2**62": (lambda b: _ids(b, lambda i: i + 2**62), None, "tx"),
    "unicode ids": (lambda b: _ids(b, lambda i: f"клиент_é_{i}_客户"), None, "tx"),
    "numeric text ids": (lambda b: _ids(b, lambda i: f"{i:07d}"), None, "tx"),
    "NaN in optional columns": (_nan_optional, None, "tx"),
    "events of one type": (_one_event_type, None, "all"),
    "leads all converted": (lambda b: _leads_one_class(b, 1), None, "leads"),
    "leads none converted": (lambda b: _leads_one_class(b, 0), None, "leads"),
}

LEAD_ENTRY_POINTS = ("LeadScorer", "RuleLeadScorer", "lead_event_features")


def _extra(A):
    """Entry points without a cut-off, on the same frames."""
    from crmml.churn import ChurnModel, make_churn_snapshot
    from crmml.segmentation import CustomerClusterer, RFMSegmenter, rfm_table

    def churn(f, d, m):
        X, y = make_churn_snapshot(f.tx, A - pd.Timedelta(days=45), 45, events=f.ev, customers=f.cu)
        return ChurnModel(n_estimators=20, early_stopping_rounds=5).fit(X, y).predict_proba(X)

    def rfm(f, d, m):
        t = rfm_table(f.tx, A)
        return RFMSegmenter().fit(t).transform(t)

    def clusters(f, d, m):
        t = rfm_table(f.tx, A)
        return CustomerClusterer(k_range=(2, 4), n_init=1).fit(t).transform(t)

    return {"ChurnModel.fit": churn, "RFMSegmenter.fit": rfm, "CustomerClusterer.fit": clusters}


def _entry_points(A):
    calls = {n: call for n, (call, _) in _cases(A).items()}
    return {**calls, **_extra(A)}


def _names(scope):
    lead = [n for n in _entry_points(AS_OF) if n.startswith(LEAD_ENTRY_POINTS)]
    return lead if scope == "leads" else [n for n in _entry_points(AS_OF) if n not in lead] if scope == "tx" else \
        list(_entry_points(AS_OF))


PAIRS = [(case, name) for case, (_, _, scope) in DATA.items() for name in _names(scope)]


# --------------------------------------------------------------------------------------------------- outcomes
def _frames_of(out):
    """The pandas objects inside an output (a fitted model's answers, a dict of frames, ...)."""
    if isinstance(out, (pd.DataFrame, pd.Series)):
        yield out
    elif isinstance(out, dict):
        for v in out.values():
            yield from _frames_of(v)
    elif isinstance(out, (list, tuple)):
        for v in out:
            yield from _frames_of(v)


#: numeric columns where inf is a documented value
INF_DOCUMENTED = {"median_days": "TimeToChurnModel.predict_median: inf when S stays above 0.5 up to max_days"}


def check_result(out, caught):
    """A result: no inf (but in INF_DOCUMENTED); an empty frame only with a crmml warning."""
    crmml_warned = [w for w in caught if type(w.message).__module__.startswith("crmml")]
    for frame in _frames_of(out):
        values = frame.to_frame() if isinstance(frame, pd.Series) else frame
        numbers = values.select_dtypes("number").drop(columns=list(INF_DOCUMENTED), errors="ignore")
        assert not np.isinf(numbers.to_numpy(dtype=float)).any(), f"inf in {numbers.columns.tolist()}"
        if len(frame) == 0:
            assert crmml_warned, "an empty result without a crmml warning saying why"


def check_error(exc):
    """An error raised by crmml's own code, of a crmml class, with a message.

    The class: a subclass of ``crmml.exceptions.CrmmlError`` once that base exists (the named-errors sweep turns
    crmml's plain ``raise ValueError(...)`` statements into named classes); until then a crmml class, or a builtin
    raised by a ``raise`` statement of crmml itself (never one from inside a library).
    """
    import crmml.exceptions

    where = traceback.extract_tb(exc.__traceback__)[-1]
    assert "/src/crmml/" in where.filename.replace("\\", "/"), (
        f"{type(exc).__name__} raised inside a library, at {where.filename}:{where.lineno}: {exc}")
    base = getattr(crmml.exceptions, "CrmmlError", None)
    named = isinstance(exc, base) if base is not None else type(exc).__module__.startswith("crmml") or (
        where.line or "").lstrip().startswith("raise ")
    assert named, f"{type(exc).__name__} at {where.filename}:{where.lineno} is no crmml error: {exc}"
    assert len(str(exc)) > 20, f"{type(exc).__name__} with no useful message: {exc!r}"


class _CaseModels:
    """The frames and models of one data case (fitted once, on the case's own frames)."""

    cache: dict = {}

    @classmethod
    def get(cls, case, base):
        if case not in cls.cache:
            make, as_of, _ = DATA[case]
            frames = make(base)
            at = AS_OF if as_of is None else as_of(base)
            cls.cache[case] = (frames, at, _Models(frames, at))
        return cls.cache[case]


@pytest.mark.parametrize("case, name", PAIRS, ids=[f"{c}-{n}" for c, n in PAIRS])
def test_degenerate_data_gives_a_result_or_a_named_error(tiny, case, name, tmp_path):
    frames, at, models = _CaseModels.get(case, tiny)
    call = _entry_points(at)[name]
    folder = tmp_path / "out"
    folder.mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call(frames, folder, models)
        except Exception as exc:                          # noqa: BLE001 - the class is what is checked
            check_error(exc)
            return
    check_result(out, caught)
