"""``crmml train`` shows the model's progress bar on stderr unless ``--quiet``: nothing on stdout, warnings on lines
of their own, and the saved model the same either way (``verbose`` is not saved as True)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml.cli import main
from crmml.persistence import load


@pytest.fixture(scope="module")
def leads_csv(tmp_path_factory):
    """500 synthetic leads with a column that leaks the outcome (a LeakageWarning during the fit's bar)."""
    from crmml.datasets import make_synthetic_crm

    leads = make_synthetic_crm(n_customers=300, seed=3, with_events=False).leads
    path = tmp_path_factory.mktemp("cli_progress") / "leads.csv"
    leads.assign(call_seconds=np.where(leads["converted"] == 1, 300.0, 60.0)).to_csv(path, index=False)
    return path


def _train(argv, capsys):
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr()


def test_train_leads_draws_the_bar_on_stderr_unless_quiet(tmp_path, leads_csv, capsys):
    loud = _train(["train", "leads", "--input", str(leads_csv), "--model", str(tmp_path / "a.zip")], capsys)
    quiet = _train(["--quiet", "train", "leads", "--input", str(leads_csv), "--model", str(tmp_path / "b.zip")],
                   capsys)
    assert loud.out == "" and quiet.out == ""                      # stdout is for data: bars never go there
    assert "LeadScorer.fit: 100%|" in loud.err and "xgboost fold 5/5" in loud.err
    assert "%|" not in quiet.err and "fold" not in quiet.err
    warning = "crmml: warning: LeadScorer.fit: the column 'call_seconds' alone separates"
    # the leakage warning comes while the bar is drawn: it still starts a line of its own (not glued to the bar)
    assert any(line.startswith(warning) for line in loud.err.splitlines())
    assert [line for line in quiet.err.splitlines() if line.startswith("crmml: warning:")] == [
        line for line in loud.err.splitlines() if line.startswith("crmml: warning:")]
    a, b = load(tmp_path / "a.zip"), load(tmp_path / "b.zip")
    assert a.get_params() == b.get_params() and a.verbose is False
    pd.testing.assert_frame_equal(a.score_leads(pd.read_csv(leads_csv)), b.score_leads(pd.read_csv(leads_csv)),
                                  check_exact=True)


def test_train_churn_draws_the_churn_models_bar(tmp_path, capsys):
    from crmml.datasets import make_synthetic_crm

    tx = tmp_path / "tx.csv"
    make_synthetic_crm(n_customers=300, seed=3, with_events=False).transactions.to_csv(tx, index=False)
    loud = _train(["train", "churn", "--input", str(tx), "--model", str(tmp_path / "a.zip")], capsys)
    quiet = _train(["--quiet", "train", "churn", "--input", str(tx), "--model", str(tmp_path / "b.zip")], capsys)
    assert loud.out == quiet.out == "" and "%|" not in quiet.err
    assert "ChurnModel.fit: 100%|" in loud.err and "early-stopped boosting" in loud.err
    warnings = [line for line in quiet.err.splitlines() if line.startswith("crmml: warning:")]   # 300 customers
    assert warnings and warnings == [line for line in loud.err.splitlines() if line.startswith("crmml: warning:")]
    assert load(tmp_path / "a.zip").get_params() == load(tmp_path / "b.zip").get_params()
