"""Every ```python block of the README runs as written (in a temporary folder, so the files it writes go there).

Blocks are named by the README heading above them. ``EXAMPLES`` says what each needs: ``slow`` (more than a few
seconds, still run in CI), ``shared`` (the full data in ../shared/data: skipped without it, as the other real-data
tests), ``raises`` (the block shows an error on purpose) and, for the one block that reads a cluster's storage,
``setup`` code that builds the frames it names and the ``replace``-ments that point it at them. A new block without an
entry here fails ``test_every_block_has_an_entry``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crmml.schema import SchemaError

README = Path(__file__).resolve().parents[1] / "README.md"

_SPARK_SETUP = '''
from crmml.churn import ChurnModel, make_churn_snapshot
from crmml.datasets import make_synthetic_crm
from crmml.spark import to_spark

_crm = make_synthetic_crm(n_customers=300, seed=0)
to_spark(spark, _crm.transactions).write.parquet(_tmp + "/tx.parquet")     # Spark resolves paths itself
events, customers = to_spark(spark, _crm.events), to_spark(spark, _crm.customers)
churn_model = ChurnModel(n_estimators=20, n_jobs=1, random_state=0).fit(
    *make_churn_snapshot(_crm.transactions, "2024-09-01", windows=(30, 90)))
'''

EXAMPLES = {
    "The standard schema": {"raises": (SchemaError, r"transactions\.timestamp: unparseable timestamps")},
    "Segmentation (`crmml.segmentation`)": {},
    "Customer lifetime value (`crmml.clv`)": {"slow": True},
    "The feature factory (`crmml.features`)": {},
    "Churn (`crmml.churn`)": {"slow": True, "shared": True},
    "Lead scoring (`crmml.scoring`)": {"slow": True},
    "Decisions: time-to-churn, value at risk and uplift (`crmml.decisions`)": {"slow": True, "shared": True},
    "Next-best-offer (`crmml.recommend`)": {"slow": True, "shared": True},
    "Reports": {"slow": True},
    "Saving models without pickle": {},
    "Errors and warnings": {},
    "Scaling out (`crmml.spark`)": {"slow": True, "spark": True, "setup": _SPARK_SETUP,
                                    "replace": {'"s3a://crm/transactions/"': '_tmp + "/tx.parquet"'}},
}


def readme_blocks() -> list[tuple[str, str]]:
    """``(heading, code)`` of every fenced python block, in order."""
    text = README.read_text()
    out, heading = [], None
    for m in re.finditer(r"^#{2,4} ([^\n]*)$|^```python\n(.*?)^```$", text, re.M | re.S):
        if m.group(1) is not None:
            heading = m.group(1).strip()
        else:
            out.append((heading, m.group(2)))
    return out


def _params():
    params = []
    for heading, code in readme_blocks():
        spec = EXAMPLES.get(heading, {})
        marks = [pytest.mark.slow] if spec.get("slow") else []
        params.append(pytest.param(heading, code, spec, id=heading.split(" (")[0], marks=marks))
    return params


def test_every_block_has_an_entry():
    headings = [h for h, _ in readme_blocks()]
    assert len(headings) >= 10, "the README lost its examples"
    assert sorted(set(headings)) == sorted(EXAMPLES), "README python blocks and EXAMPLES differ"
    assert len(headings) == len(set(headings)), "two python blocks under one heading: give each its own entry"


@pytest.mark.parametrize(("heading", "code", "spec"), _params())
def test_readme_example_runs(heading, code, spec, tmp_path, monkeypatch, request):
    if spec.get("shared"):
        request.getfixturevalue("online_retail")          # skips without ../shared/data, like the other tests
    namespace = {"__name__": "readme_example", "_tmp": str(tmp_path)}
    if spec.get("spark"):
        namespace["spark"] = request.getfixturevalue("spark")   # skips without pyspark or Java
    monkeypatch.chdir(tmp_path)
    for old, new in spec.get("replace", {}).items():
        assert old in code, f"{heading}: {old} is no longer in the block"
        code = code.replace(old, new)
    if spec.get("setup"):
        exec(compile(spec["setup"], f"<setup of README: {heading}>", "exec"), namespace)
    compiled = compile(code, f"<README: {heading}>", "exec")
    if "raises" in spec:
        error, match = spec["raises"]
        with pytest.raises(error, match=match):
            exec(compiled, namespace)
    else:
        exec(compiled, namespace)
