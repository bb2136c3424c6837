"""crmml score --engine spark: parquet datasets in and out, same rows as the pandas engine."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmml.cli import main
from crmml.datasets import make_synthetic_crm
from crmml.persistence import save
from crmml.segmentation import RFMSegmenter, rfm_table


@pytest.fixture(scope="module")
def files(spark, tmp_path_factory):
    d = tmp_path_factory.mktemp("spark_cli")
    tx = make_synthetic_crm(n_customers=400, seed=5, with_events=False).transactions
    tx["timestamp"] = tx["timestamp"].dt.floor("us")     # Spark's resolution; still datetime64[ns] in the file
    (d / "tx").mkdir()
    for i, part in enumerate((tx.iloc[: len(tx) // 2], tx.iloc[len(tx) // 2:])):   # a dataset of two files
        part.to_parquet(d / "tx" / f"part-{i}.parquet", index=False)
    model = save(RFMSegmenter().fit(rfm_table(tx, "2024-07-01")), d / "segments.zip")
    return d, model


def test_spark_engine_scores_like_the_pandas_engine(files):
    d, model = files
    common = ["--quiet", "score", "--model", str(model), "--as-of", "2024-07-01"]
    assert main([*common, "--input", str(d / "tx"), "--output", str(d / "spark_out"), "--engine", "spark",
                 "--master", "local[2]"]) == 0
    pd.concat([pd.read_parquet(p) for p in sorted((d / "tx").glob("*.parquet"))]).to_parquet(d / "all.parquet")
    assert main([*common, "--input", str(d / "all.parquet"), "--output", str(d / "pandas_out.parquet")]) == 0
    got = pd.read_parquet(d / "spark_out").sort_values("customer_id").reset_index(drop=True)
    expected = pd.read_parquet(d / "pandas_out.parquet").sort_values("customer_id").reset_index(drop=True)
    expected["segment"] = expected["segment"].astype(str)
    assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    assert len(got) == expected["customer_id"].nunique() > 300


def test_spark_engine_errors_are_one_line_exit_2(files, capsys, tmp_path, tamper):
    d, model = files
    bad = tmp_path / "bad.zip"
    bad.write_bytes(tamper(model.read_bytes()))
    args = ["score", "--engine", "spark", "--input", str(d / "tx")]
    assert main([*args, "--model", str(bad), "--output", str(tmp_path / "o1")]) == 2
    assert main([*args, "--model", str(model), "--output", str(d / "tx")]) == 2          # exists: refused
    assert main([*args, "--model", str(model), "--output", str(tmp_path / "o2"), "--input",
                 str(tmp_path / "nothing-here")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("crmml: error: ") for line in err)
    assert "already exists" in err[1] and "Spark cannot read it as parquet" in err[2]
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
