"""The schema boundary under hostile or unusual input: pyarrow and nullable dtypes, duplicated or colliding
column names, out-of-range timestamps, overflowing amounts, and the one id rule."""

import datetime
import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest

from crmml.schema import (MAX_ABS_VALUE, MixedIdWarning, SchemaError, map_columns, normalize_ids,
                          validate_customers, validate_events, validate_leads, validate_products,
                          validate_transactions)


@pytest.fixture
def tx():
    return pd.DataFrame({"customer_id": [1, 1, 2, 3],
                         "timestamp": pd.to_datetime(["2024-01-02 10:00", "2024-02-01 00:00", "2024-01-05 00:00",
                                                      "2024-03-01 00:00"]),
                         "amount": [10.5, -2.0, 7.0, 3.25]})


# ----------------------------------------------------------------------------------------- pyarrow / nullable
ARROW_CASES = {
    "timestamp[ns, tz=UTC][pyarrow]": ("timestamp",
                                       lambda s: s.dt.tz_localize("UTC").astype("timestamp[ns, tz=UTC][pyarrow]")),
    "timestamp[us, tz=Europe/Paris][pyarrow]": (
        "timestamp", lambda s: s.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
        .astype("timestamp[us, tz=Europe/Paris][pyarrow]")),
    "timestamp[s][pyarrow]": ("timestamp", lambda s: s.astype("timestamp[s][pyarrow]")),
    "int64[pyarrow] ids": ("customer_id", lambda s: s.astype("int64[pyarrow]")),
    "Int64 ids": ("customer_id", lambda s: s.astype("Int64")),
    "double[pyarrow] ids": ("customer_id", lambda s: s.astype("double[pyarrow]")),
    "string[pyarrow] amounts": ("amount", lambda s: s.astype(str).astype("string[pyarrow]")),
    "double[pyarrow] amounts": ("amount", lambda s: s.astype("double[pyarrow]")),
    "Float64 amounts": ("amount", lambda s: s.astype("Float64")),
}


@pytest.mark.parametrize("case", sorted(ARROW_CASES))
def test_pyarrow_and_nullable_columns_give_the_canonical_frame(tx, case):
    col, convert = ARROW_CASES[case]
    expected = validate_transactions(tx)
    got = validate_transactions(tx.assign(**{col: convert(tx[col])}))
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.fixture(scope="module")
def crm_tx():
    from crmml.datasets import make_synthetic_crm

    tx = make_synthetic_crm(n_customers=150, seed=4, with_events=False).transactions
    arrow = tx.assign(timestamp=tx["timestamp"].dt.tz_localize("UTC").astype("timestamp[ns, tz=UTC][pyarrow]"),
                      customer_id=tx["customer_id"].astype("int64[pyarrow]"),
                      amount=tx["amount"].astype("double[pyarrow]"),
                      product_id=tx["product_id"].astype("int64[pyarrow]"),
                      quantity=tx["quantity"].astype("double[pyarrow]"))
    assert all(isinstance(arrow[c].dtype, pd.ArrowDtype) for c in ("timestamp", "customer_id", "amount"))
    return tx, arrow


def _transaction_entry_points():
    """Every public entry point reading a transactions frame: ``name -> run(tx)`` giving something comparable."""
    from crmml.churn import (TimeToChurnModel, backtest, make_churn_labels, make_churn_snapshot, make_time_to_event,
                             survival_backtest)
    from crmml.clv import CLVModel, FeatureCLVModel, calibration_holdout, p_alive_path, summarize, tracking_table
    from crmml.decisions import RetentionPlanner, lost_value
    from crmml.evaluation import clv_report, clv_tracking, summarize_data
    from crmml.features import build_features
    from crmml.recommend import (NextBestOffer, PastPurchasesBaseline, PopularityBaseline, evaluate_recommendations,
                                 time_split)
    from crmml.segmentation import rfm_table

    a = "2024-06-01"
    plain = _plain_models()
    return {
        "rfm_table": lambda tx: rfm_table(tx, a),
        "build_features": lambda tx: build_features(tx, a),
        "summarize": lambda tx: summarize(tx, a),
        "calibration_holdout": lambda tx: calibration_holdout(tx, "2024-03-01", a),
        "make_churn_labels": lambda tx: make_churn_labels(tx, "2024-03-01"),
        "make_churn_snapshot": lambda tx: make_churn_snapshot(tx, "2024-03-01"),
        "make_time_to_event": lambda tx: make_time_to_event(tx, "2024-03-01"),
        "lost_value": lambda tx: lost_value(tx, "2024-03-01"),
        "summarize_data": lambda tx: summarize_data(tx, as_of=a),
        "time_split": lambda tx: time_split(tx, a),
        "CLVModel.fit": lambda tx: CLVModel().fit(tx, a).predict(),
        "CLVModel.predict": lambda tx: plain["clv"].predict(tx, as_of=a),
        "CLVModel.predict_interval": lambda tx: plain["clv"].predict_interval(tx, as_of=a, n_draws=10, random_state=0),
        "tracking_table": lambda tx: tracking_table(plain["clv"].purchase_model_, tx, "2024-03-04", "2024-06-03"),
        "p_alive_path": lambda tx: p_alive_path(plain["clv"].purchase_model_, tx, 1, a),
        "clv_tracking": lambda tx: clv_tracking(plain["clv"], tx, end=a, n_points=5),
        "clv_report": lambda tx: _in_a_temporary_folder(lambda d: clv_report(f"{d}/clv.html", plain["clv"], tx,
                                                                             end=a).stat().st_size > 1000),
        "TimeToChurnModel.predict_survival": lambda tx: plain["ttc"].predict_survival(transactions=tx, as_of=a),
        "backtest": lambda tx: backtest(tx, ["2024-03-01"], n_train_snapshots=1, windows=(30, 90)).predictions,
        "survival_backtest": lambda tx: survival_backtest(tx, ["2024-03-01"], n_churn_snapshots=1),
        "PastPurchasesBaseline.fit": lambda tx: PastPurchasesBaseline().fit(tx, as_of=a).recommend([1, 2, 3], k=3),
        "evaluate_recommendations": lambda tx: evaluate_recommendations(NextBestOffer(), tx, "2024-05-01"),
        "FeatureCLVModel.fit": lambda tx: FeatureCLVModel().fit(tx, a).predict(tx),
        "NextBestOffer.fit": lambda tx: NextBestOffer().fit(tx, as_of=a).recommend(k=3),
        "PopularityBaseline.fit": lambda tx: PopularityBaseline().fit(tx, as_of=a).recommend([1, 2, 3], k=3),
        "TimeToChurnModel.fit": lambda tx: TimeToChurnModel().fit(tx, a).predict_survival(),
        "RetentionPlanner.fit": lambda tx: RetentionPlanner().fit(tx, a).plan(),
    }


def _in_a_temporary_folder(run):
    with tempfile.TemporaryDirectory() as folder:
        return run(folder)


_PLAIN: dict = {}


def _plain_models():
    """Models fitted once on plain numpy dtypes, for the entry points that take transactions after fit."""
    if not _PLAIN:
        from crmml.churn import TimeToChurnModel
        from crmml.clv import CLVModel
        from crmml.datasets import make_synthetic_crm

        tx = make_synthetic_crm(n_customers=150, seed=4, with_events=False).transactions
        _PLAIN.update(clv=CLVModel().fit(tx, "2024-03-01"), ttc=TimeToChurnModel().fit(tx, "2024-03-01"))
    return _PLAIN


#: public callables with a transactions parameter that take already validated frames, and why
NOT_VALIDATING = {"compute_features": "the no-check fast path of build_features, on frames already validated",
                  "FeatureCLVModel.predict": "FeatureCLVModel.fit's case predicts on the same arrow frame"}


def test_the_transaction_entry_point_list_is_complete():
    import importlib
    import inspect

    found = set()
    for sub in ("churn", "clv", "decisions", "evaluation", "features", "recommend", "scoring", "segmentation"):
        module = importlib.import_module(f"crmml.{sub}")
        for name in module.__all__:
            obj = getattr(module, name)
            members = ([(f"{name}.{m}", f) for m, f in inspect.getmembers(obj, inspect.isfunction)
                        if not m.startswith(("_", "set_"))] if inspect.isclass(obj)
                       else [(name, obj)] if callable(obj) else [])
            for qualname, fn in members:
                try:
                    params = inspect.signature(fn).parameters
                except (TypeError, ValueError):
                    continue
                if "transactions" in params or "tx" in params:
                    found.add(qualname)
    assert len(found) > 20
    assert found - set(_transaction_entry_points()) - set(NOT_VALIDATING) == set()


def _assert_same(got, expected, name):
    if isinstance(got, tuple):
        assert len(got) == len(expected), name
        for g, e in zip(got, expected):
            _assert_same(g, e, name)
    elif isinstance(got, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=name)
    elif isinstance(got, pd.Series):
        pd.testing.assert_series_equal(got, expected, check_exact=True, obj=name)
    elif isinstance(got, dict):
        assert got.keys() == expected.keys(), name
        for k in got:
            _assert_same(got[k], expected[k], f"{name}[{k!r}]")
    else:
        assert got == expected or (got != got and expected != expected), name


@pytest.mark.parametrize("name", sorted(_transaction_entry_points()))
def test_pyarrow_timestamps_reach_every_transaction_entry_point(crm_tx, name):
    tx, arrow = crm_tx
    run = _transaction_entry_points()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                     # the same warnings either way; not what is tested here
        _assert_same(run(arrow), run(tx), name)


def test_pyarrow_text_and_nullable_booleans_in_other_frames():
    leads = pd.DataFrame({"lead_id": pd.Series(["a", "b"], dtype="string[pyarrow]"),
                          "converted": pd.Series([True, False], dtype="boolean"),
                          "source": pd.Series(["web", None], dtype="large_string[pyarrow]")})
    out = validate_leads(leads, require_label=True)
    assert out["lead_id"].tolist() == ["a", "b"] and out["converted"].tolist() == [1, 0]
    assert not isinstance(out["source"].dtype, pd.ArrowDtype) and out["source"].isna().tolist() == [False, True]
    ev = pd.DataFrame({"customer_id": pd.Series([1, 2], dtype="uint8"),
                       "timestamp": pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"])).astype("date32[pyarrow]"),
                       "event_type": pd.Series(["web_visit", "email_open"], dtype="string[pyarrow]"),
                       "value": pd.Series([1, None], dtype="Int64")})
    out = validate_events(ev)
    assert str(out["timestamp"].dtype) == "datetime64[ns]" and out["value"].isna().tolist() == [False, True]
    assert out["customer_id"].dtype == "int64"


# ----------------------------------------------------------------------------------------- column names
def test_duplicated_column_names_are_refused_by_name(tx):
    dup = pd.concat([tx, tx[["amount"]]], axis=1)
    for validate in (validate_transactions, validate_customers):
        with pytest.raises(SchemaError, match=r"these column names appear more than once: \['amount'\]"):
            validate(dup)


def test_a_mapping_onto_an_existing_column_names_both(tx):
    raw = tx.assign(Total=tx["amount"] * 2)
    with pytest.raises(SchemaError, match="renames 'Total' to 'amount', but the frame already has a column 'amount'"):
        validate_transactions(raw, columns={"Total": "amount"})
    with pytest.raises(SchemaError, match=r"maps several columns onto \['amount'\] \(from \['Total', 'amount2'\]\)"):
        validate_transactions(raw.rename(columns={"amount": "amount2"}),
                              columns={"Total": "amount", "amount2": "amount"})
    # swapping or moving the existing column away is fine
    swapped = validate_transactions(raw, columns={"Total": "amount", "amount": "gross"})
    assert swapped["amount"].tolist() == (tx["amount"] * 2).tolist()
    assert list(map_columns(raw, {"amount": "x"}, "t").columns) == ["customer_id", "timestamp", "x", "Total"]


# ----------------------------------------------------------------------------------------- timestamps
@pytest.mark.parametrize("make", [
    lambda: ["2024-01-01", "2300-01-01", "2024-01-02", "9999-12-31"],
    lambda: np.array(["2024-01-01", "2300-01-01", "2024-01-02", "9999-12-31"], dtype="datetime64[s]"),
    lambda: [datetime.datetime(2024, 1, 1), datetime.datetime(2300, 1, 1), datetime.datetime(2024, 1, 2),
             datetime.datetime(9999, 12, 31)],
    lambda: pd.Series(np.array(["2024-01-01", "2300-01-01", "2024-01-02", "9999-12-31"], dtype="datetime64[s]"))
    .astype("timestamp[s][pyarrow]"),
    lambda: ["2024-01-01T00:00Z", "1500-01-01T00:00Z", "2024-01-02T00:00Z", "9999-12-31T00:00Z"],
], ids=["text", "datetime64[s]", "datetime objects", "pyarrow", "tz-aware text"])
def test_timestamps_outside_pandas_range_are_counted(tx, make):
    with pytest.raises(SchemaError, match=r"transactions.timestamp: timestamps outside the range pandas can "
                                          r"represent .* \(2 rows; e.g. '(2300|1500)-01-01 00:00:00', '9999-12-31"):
        validate_transactions(tx.assign(timestamp=make()).iloc[[0, 1, 2, 3]])


# ----------------------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("value", [1e308, -1e16, 2e15])
def test_amounts_that_would_overflow_sums_are_refused(tx, value):
    with pytest.raises(SchemaError, match=r"transactions.amount: values larger than 1e\+15 in magnitude .*\(1 row"):
        validate_transactions(tx.assign(amount=[1.0, value, 2.0, 3.0]))
    ok = validate_transactions(tx.assign(amount=[1.0, MAX_ABS_VALUE, -MAX_ABS_VALUE, 3.0]))
    assert ok["amount"].abs().max() == MAX_ABS_VALUE
    with pytest.raises(SchemaError, match=r"products.price: values larger than 1e\+15"):
        validate_products(pd.DataFrame({"product_id": [1], "price": [1e300]}))


def test_near_max_amounts_no_longer_reach_inf(tx):
    from crmml.clv import summarize
    from crmml.features import build_features
    from crmml.segmentation import rfm_table

    huge = tx.assign(amount=[1.7e308, 1.7e308, 1.0, 1.0])        # canonical dtypes: no shortcut past the check
    for f in (rfm_table, build_features, summarize):
        with pytest.raises(SchemaError, match="values larger than 1e\\+15"):
            f(huge, "2024-03-02")


def test_text_among_integer_ids_of_a_canonical_looking_frame_is_normalised(tx):
    from crmml.features import build_features

    mixed = tx.assign(customer_id=pd.Series([1, "1", 2, 3], dtype=object))
    with pytest.warns(MixedIdWarning):
        out = build_features(mixed, "2024-03-02")
    assert out.index.tolist() == ["1", "2", "3"]


# ----------------------------------------------------------------------------------------- the id rule
@pytest.mark.parametrize("ids, expected", [
    ([1, 2, 3], [1, 2, 3]),
    (pd.Series([1, 1.0, 2], dtype=object), [1, 1, 2]),
    (np.array([1.0, 2.0]), [1, 2]),
    (pd.Series([1, 2], dtype="Int64"), [1, 2]),
    (pd.Series([1, 2], dtype="int64[pyarrow]"), [1, 2]),
    (pd.Series([1.0, 2.0], dtype="double[pyarrow]"), [1, 2]),
    (pd.Series([True, False]), [1, 0]),
    (["007", "8"], ["007", "8"]),                             # numeric text stays text (leading zeros matter)
    (np.array([1.5, 2.0]), ["1.5", "2"]),
    (pd.Series([2 ** 64 - 1], dtype="uint64"), ["18446744073709551615"]),
    (pd.Series(["a", "b"], dtype="category"), ["a", "b"]),
    (pd.Series([3, 4], dtype="category"), [3, 4]),
])
def test_one_id_rule(ids, expected):
    out = normalize_ids(ids)
    assert list(out) == expected
    assert out.dtype == ("int64" if isinstance(expected[0], int) else out.dtype)
    if isinstance(expected[0], str):
        assert all(isinstance(v, str) for v in out)


def test_integer_and_float_object_ids_are_one_customer():
    from crmml.segmentation import rfm_table

    raw = pd.DataFrame({"customer_id": pd.Series([1, 1.0, 2], dtype=object),
                        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                        "amount": [1.0, 2.0, 3.0]})
    out = rfm_table(raw, "2024-01-04")
    assert out.index.tolist() == [1, 2] and out.index.dtype == "int64" and out.loc[1, "monetary"] == 3.0


def test_text_among_integer_ids_warns_with_counts_and_is_canonical():
    ids = pd.Series([1, 2.0, np.int64(3), "A-7", 1], dtype=object)
    with pytest.warns(MixedIdWarning, match=r"ids.customer_id mixes 1 text and 4 numeric ids: all ids are treated "
                                            r"as text \(1 and 1.0 -> '1'\)"):
        out = normalize_ids(ids)
    assert out.tolist() == ["1", "2", "3", "A-7", "1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixedIdWarning)
        normalize_ids(pd.Series(["1", "2"]))                   # all text: no warning
        normalize_ids(pd.Series([1, 2.0], dtype=object))       # all numbers: no warning


def test_mixed_ids_in_a_frame_warn_and_match_text_ids(tx):
    raw = tx.assign(customer_id=pd.Series([1, 1.0, "2", "x"], dtype=object))
    with pytest.warns(MixedIdWarning, match=r"transactions.customer_id mixes 2 text and 2 numeric ids"):
        out = validate_transactions(raw)
    assert out["customer_id"].tolist() == ["1", "1", "2", "x"]


def test_null_ids_are_refused():
    with pytest.raises(SchemaError, match=r"ids.customer_id: null ids are not allowed \(at index \[1\]\)"):
        normalize_ids([1, None, 3])
    with pytest.raises(SchemaError, match=r"customers.customer_id: null ids"):
        validate_customers(pd.DataFrame({"customer_id": pd.Series([1, None], dtype="Int64")}))


def test_ids_keep_the_series_index():
    s = pd.Series([1.0, 2.0], index=[10, 20], name="customer_id")
    out = normalize_ids(s)
    assert out.index.tolist() == [10, 20] and out.name == "customer_id" and out.tolist() == [1, 2]


def test_validation_copies_only_what_it_converts_and_never_writes_through():
    """A canonical float column is shared with the caller's frame (pandas >= 3, copy on write), a converted
    one is not, and writing into the validated frame leaves the caller's frame unchanged."""
    import numpy as np
    import pandas as pd

    from crmml.schema import COPY_ON_WRITE, validate_transactions

    df = pd.DataFrame({"customer_id": np.array([1, 2, 2], dtype=np.int32),
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                       "amount": [10.0, -2.5, 3.0]})
    before = df.copy()
    out = validate_transactions(df)
    assert out["customer_id"].dtype == np.int64                  # converted: its own array
    assert not np.shares_memory(out["customer_id"].to_numpy(), df["customer_id"].to_numpy())
    assert np.shares_memory(out["amount"].to_numpy(), df["amount"].to_numpy()) == COPY_ON_WRITE
    out.loc[0, "amount"] = 99.0
    out["timestamp"] = out["timestamp"] + pd.Timedelta(days=1)
    pd.testing.assert_frame_equal(df, before)
    bad = df.assign(amount=[1.0, np.inf, np.nan])                 # the fast path still refuses bad values
    with pytest.raises(SchemaError, match="amount: infinite values"):
        validate_transactions(bad)
