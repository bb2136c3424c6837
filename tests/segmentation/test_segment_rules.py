"""RuleSegmenter: order, default, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from crmml import RuleError, SchemaError
from crmml.segmentation import RuleSegmenter

X = pd.DataFrame({"monetary": [9000.0, 300, 50, 800, 6000], "frequency": [20, 2, 1, 9, 1],
                  "recency": [3.0, 20, 300, 15, 400]}, index=pd.Index([1, 2, 3, 4, 5], name="customer_id"))


def test_first_match_wins_and_default():
    rs = RuleSegmenter([("vip", "monetary > 5000"), ("active", "recency < 30"), ("vip", "frequency >= 9")],
                       default="rest").fit(X)
    out = rs.transform(X)
    assert out["segment"].tolist() == ["vip", "active", "rest", "active", "vip"]
    assert out["rule"].tolist() == [0, 1, -1, 1, 0]
    assert rs.segment_names_ == ["vip", "active", "rest"]
    assert list(out["segment"].cat.categories) == ["vip", "active", "rest"]
    # order matters: put the frequency rule first
    rs2 = RuleSegmenter({"loyal": "frequency >= 9", "vip": "monetary > 5000"}).fit(X)
    assert rs2.transform(X)["segment"].tolist() == ["loyal", "Other", "Other", "loyal", "vip"]


def test_callables_and_partitions():
    rs = RuleSegmenter([("big", lambda d: d["monetary"] > 1000), ("small", "monetary <= 1000")]).fit(X)
    out = rs.transform(X)
    assert out["segment"].tolist() == ["big", "small", "small", "small", "big"]
    parts = pd.concat([rs.transform(X.iloc[:2]), rs.transform(X.iloc[2:])])
    pd.testing.assert_frame_equal(parts, out)


def test_errors():
    with pytest.raises(SchemaError, match=r"RuleSegmenter.fit: rule 1 'b' \('clv > 3'\) refers to a missing "
                                          r"column 'clv'; columns available: \['monetary', 'frequency'"):
        RuleSegmenter([("a", "monetary > 1"), ("b", "clv > 3")]).fit(X)
    with pytest.raises(RuleError, match=r"rule 0 'a' \('monetary \+ 1'\): a rule must be a condition giving one "
                                        "boolean per row"):
        RuleSegmenter([("a", "monetary + 1")]).fit(X)
    with pytest.raises(RuleError, match=r"rule 0 'a' \('monetary'\): must give one boolean per row, but gives "
                                        "dtype float64"):
        RuleSegmenter([("a", "monetary")]).fit(X)
    with pytest.raises(ValueError, match="rule 0 'a' must give one boolean per customer"):
        RuleSegmenter([("a", lambda d: np.ones(2, dtype=bool))]).fit(X)
    with pytest.raises(ValueError, match="The 'rules' parameter of RuleSegmenter must be a non-empty dict"):
        RuleSegmenter([]).fit(X)
    with pytest.raises(ValueError, match="The 'rules' parameter of RuleSegmenter must be a non-empty dict"):
        RuleSegmenter([("a", 3)]).fit(X)
    with pytest.raises(ValueError, match="The 'default' parameter of RuleSegmenter must be a str"):
        RuleSegmenter({"a": "monetary > 1"}, default=None).fit(X)
    with pytest.raises(ValueError, match="expects a DataFrame indexed by customer_id"):
        RuleSegmenter({"a": "monetary > 1"}).fit(X.to_numpy())
    with pytest.raises(NotFittedError):
        RuleSegmenter({"a": "monetary > 1"}).transform(X)
    rs = RuleSegmenter({"a": "monetary > 1"}).fit(X)
    with pytest.raises(ValueError, match=r"RuleSegmenter.transform: rule 0 'a'"):
        rs.transform(X.drop(columns="monetary"))


def test_callable_giving_a_series_on_another_index_is_refused():
    # hostile audit: the Series was read by position, so each customer silently got another row's answer
    X = pd.DataFrame({"a": [1, 2, 3]}, index=pd.Index([10, 20, 30], name="customer_id"))
    seg = RuleSegmenter({"Big": lambda d: (d["a"] > 1).reset_index(drop=True)})
    with pytest.raises(ValueError, match=r"RuleSegmenter.fit: rule 0 'Big' \(a callable\) returned a Series with "
                                         r"another index than the frame"):
        seg.fit(X)
    ok = RuleSegmenter({"Big": lambda d: d["a"] > 1}).fit_transform(X)
    assert ok["segment"].tolist() == ["Other", "Big", "Big"]
