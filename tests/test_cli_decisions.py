"""crmml CLI decision paths: survival and uplift scoring, retention training and 'crmml prioritise'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml.cli import main


@pytest.fixture(scope="module")
def tx_csv(tmp_path_factory):
    from crmml.datasets import make_synthetic_crm

    crm = make_synthetic_crm(n_customers=400, seed=5, with_events=False)
    path = tmp_path_factory.mktemp("cli_dec") / "tx.csv"
    crm.transactions[["customer_id", "timestamp", "amount"]].to_csv(path, index=False)
    return path, crm


def _err_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all("Traceback" not in line for line in err)
    return err[-1]


def test_survival_train_and_score(tmp_path, tx_csv, capsys):
    path, crm = tx_csv
    model = tmp_path / "ttc.zip"
    assert main(["train", "survival", "--input", str(path), "--model", str(model), "--as-of", "2024-07-01"]) == 0
    out = tmp_path / "surv.csv"
    assert main(["score", "--model", str(model), "--input", str(path), "--output", str(out),
                 "--as-of", "2024-07-01", "--days", "45,90", "--batch", "250"]) == 0
    got = pd.read_csv(out).set_index("customer_id").sort_index()
    from crmml.persistence import load

    expected = load(model).predict_survival([45, 90]).sort_index()
    assert list(got.columns) == ["survival_45d", "survival_90d", "median_days"]
    assert np.allclose(got[expected.columns], expected)              # batches give the whole-base answer
    assert main(["score", "--model", str(model), "--input", str(path), "--output", str(tmp_path / "x.csv"),
                 "--days", "400"]) == 2
    assert "--days '400'" in _err_line(capsys) and not (tmp_path / "x.csv").exists()


def test_uplift_score_recommends_an_arm(tmp_path, capsys):
    from crmml.decisions import UpliftModel
    from crmml.persistence import save

    rng = np.random.default_rng(0)
    n = 3000
    X = pd.DataFrame({"x1": rng.normal(size=n), "channel": rng.choice(["web", "phone"], n)})
    arm = rng.choice(["none", "a", "b"], n)
    y = rng.normal(size=n) + (arm == "a") * (1 + X["x1"]) + (arm == "b") * (1 - X["x1"])
    model = save(UpliftModel(n_estimators=40, learning_rate=0.2, min_child_weight=5.0).fit(X, arm, y, control="none"),
                 tmp_path / "uplift.zip")
    inp = tmp_path / "customers.csv"
    X.assign(customer_id=np.arange(n) + 100).to_csv(inp, index=False)
    out = tmp_path / "uplift.parquet"
    assert main(["score", "--model", str(model), "--input", str(inp), "--output", str(out), "--cost", "0.5"]) == 0
    got = pd.read_parquet(out)
    assert list(got.columns) == ["customer_id", "uplift_a", "uplift_b", "recommended_arm", "expected_gain"]
    share = np.mean(got["recommended_arm"].to_numpy() == np.where(X["x1"] > 0, "a", "b"))
    assert share > 0.85
    # hostile audit: a missing feature column and --cost -1 / nan ended as 'ValueError: ... (rerun with --debug)'
    # or, for a negative cost, were scored silently
    for extra, frame, what in (([], X.drop(columns="channel"), "lacks 1 column(s) seen in fit, e.g. ['channel']"),
                               (["--cost", "-1"], X, "--value 1 / --cost -1: UpliftModel.recommend: cost must be >= 0"),
                               (["--cost", "nan"], X, "cost must be a finite number")):
        frame.assign(customer_id=np.arange(n)).to_csv(tmp_path / "bad.csv", index=False)
        assert main(["score", "--model", str(model), "--input", str(tmp_path / "bad.csv"), "--output",
                     str(tmp_path / "bad_out.csv"), *extra]) == 2
        line = _err_line(capsys)
        assert what in line and "rerun with --debug" not in line and not (tmp_path / "bad_out.csv").exists()
    X.assign(customer_id=1).to_csv(inp, index=False)
    assert main(["score", "--model", str(model), "--input", str(inp), "--output", str(out)]) == 2
    assert "customer_id must be unique" in _err_line(capsys)


def test_retention_train_and_prioritise(tmp_path, tx_csv, capsys):
    path, _ = tx_csv
    model = tmp_path / "planner.zip"
    assert main(["train", "retention", "--input", str(path), "--model", str(model), "--as-of", "2024-07-01"]) == 0
    out, page = tmp_path / "plan.csv", tmp_path / "plan.html"
    assert main(["prioritise", "--model", str(model), "--output", str(out), "--cost", "2", "--effect", "0.3",
                 "--budget", "40", "--report", str(page)]) == 0
    plan = pd.read_csv(out)
    assert plan["expected_net_gain"].is_monotonic_decreasing
    assert plan.loc[plan["selected"], "cost"].sum() <= 40 and plan["selected"].sum() > 0
    assert "Retention plan" in page.read_text()
    assert main(["prioritise", "--model", str(model), "--output", str(out), "--effect", "3"]) == 2
    assert "effect" in _err_line(capsys)
    # hostile audit: --report equal to --output wrote the page there, then failed with a FileNotFoundError
    other = tmp_path / "other.csv"
    assert main(["prioritise", "--model", str(model), "--output", str(other), "--report", str(other)]) == 2
    assert "--report" in _err_line(capsys) and not other.exists()
    assert main(["score", "--model", str(model), "--input", str(path), "--output", str(tmp_path / "s.csv")]) == 2
    assert "crmml prioritise" in _err_line(capsys)


def test_prioritise_outputs_are_atomic(tmp_path, tx_csv, monkeypatch, capsys):
    import crmml._cli_decisions as dec
    from crmml.persistence import load

    path, _ = tx_csv
    model = tmp_path / "planner.zip"
    assert main(["--quiet", "train", "retention", "--input", str(path), "--model", str(model),
                 "--as-of", "2024-07-01"]) == 0
    out, page = tmp_path / "plan.csv", tmp_path / "plan.html"
    out.write_text("previous plan\n")
    page.write_text("previous page")
    temporaries = lambda: sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".crmml-"))  # noqa: E731
    real_write = dec.write_table

    def write_half_then_fail(df, target):
        real_write(df.head(3), target)
        raise OSError("No space left on device")

    monkeypatch.setattr(dec, "write_table", write_half_then_fail)
    argv = ["prioritise", "--model", str(model), "--output", str(out), "--report", str(page)]
    assert main(argv) == 2
    assert "No space left on device" in _err_line(capsys)
    assert out.read_text() == "previous plan\n" and page.read_text() == "previous page" and temporaries() == []
    monkeypatch.setattr(dec, "write_table", real_write)

    planner_cls = type(load(model))

    def report_half_then_interrupt(self, target, plan):
        with open(target, "w") as f:
            f.write("<html>half")
        raise KeyboardInterrupt

    monkeypatch.setattr(planner_cls, "report", report_half_then_interrupt)
    assert main(argv) == 2
    assert _err_line(capsys) == "crmml: error: interrupted (Ctrl-C); no output was written"
    # true of both files: the plan is not renamed into place when its page fails
    assert out.read_text() == "previous plan\n" and page.read_text() == "previous page" and temporaries() == []
    monkeypatch.undo()
    assert main(argv) == 0
    assert pd.read_csv(out)["selected"].dtype == bool and "Retention plan" in page.read_text()
