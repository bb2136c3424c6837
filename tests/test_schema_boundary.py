"""The schema boundary under hostile or unusual input: pyarrow and nullable dtypes, duplicated or colliding
column names, out-of-range timestamps, overflowing amounts, and the one id rule."""

import datetime
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


def test_pyarrow_timestamps_reach_every_transaction_entry_point(tx):
    from crmml.clv import summarize
    from crmml.features import build_features
    from crmml.segmentation import rfm_table

    arrow = tx.assign(timestamp=tx["timestamp"].dt.tz_localize("UTC").astype("timestamp[ns, tz=UTC][pyarrow]"),
                      customer_id=tx["customer_id"].astype("int64[pyarrow]"),
                      amount=tx["amount"].astype("double[pyarrow]"))
    for f in (rfm_table, build_features, summarize):
        pd.testing.assert_frame_equal(f(arrow, "2024-03-02"), f(tx, "2024-03-02"), check_exact=True)


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
