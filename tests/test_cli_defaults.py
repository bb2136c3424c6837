"""The crmml command's cut-off rules: the default ``--as-of`` of ``crmml score`` and the training cut-off of
``crmml train churn`` (README, "The crmml command")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmml.cli import main


@pytest.fixture(scope="module")
def tx_file(tmp_path_factory):
    """300 synthetic customers; the file's last lines are one customer's, late in the day (16:39)."""
    from crmml.datasets import make_synthetic_crm

    tx = make_synthetic_crm(n_customers=300, seed=3, with_events=False).transactions
    tx = tx[["customer_id", "timestamp", "amount"]].sort_values("timestamp", kind="stable")
    path = tmp_path_factory.mktemp("cli_defaults") / "tx.csv"
    tx.to_csv(path, index=False)
    last = tx["timestamp"].max()
    assert last != last.normalize() and tx.loc[tx["timestamp"] == last, "customer_id"].nunique() == 1
    return path, tx


def _score(model, tx_path, out, *extra):
    assert main(["--quiet", "score", "--model", str(model), "--input", str(tx_path), "--output", str(out),
                 *extra]) == 0
    return pd.read_csv(out).sort_values("customer_id", kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("kind", ["segments", "clv"])
def test_score_as_of_defaults_to_the_day_after_the_files_last_transaction(tmp_path, tx_file, kind):
    path, tx = tx_file
    default = (tx["timestamp"].max().normalize() + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    assert default == "2024-12-31"
    model = tmp_path / f"{kind}.zip"
    assert main(["--quiet", "train", kind, "--input", str(path), "--model", str(model), "--as-of", default]) == 0
    implicit = _score(model, path, tmp_path / "implicit.csv")
    explicit = _score(model, path, tmp_path / "explicit.csv", "--as-of", default)
    pd.testing.assert_frame_equal(implicit, explicit, check_exact=True)
    # with --batch every part uses the whole file's cut-off, not the day after its own last line
    batched = _score(model, path, tmp_path / "batched.csv", "--batch", "7")
    pd.testing.assert_frame_equal(batched, explicit, check_exact=True)
    # the cut-off matters: a day later (or the last timestamp itself) gives other scores
    later = (pd.Timestamp(default) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    assert not _score(model, path, tmp_path / "later.csv", "--as-of", later).equals(explicit)


def test_train_churn_fits_on_the_at_risk_customers_at_as_of_minus_horizon(tmp_path, tx_file, monkeypatch,
                                                                          capsys):
    import crmml.churn
    from crmml.churn import ChurnModel
    from crmml.persistence import load

    path, _ = tx_file
    real = crmml.churn.make_churn_snapshot
    calls = []

    def recording(tx, cutoff, horizon_days, *args, **kw):
        calls.append((tx, pd.Timestamp(cutoff), horizon_days))
        return real(tx, cutoff, horizon_days, *args, **kw)

    monkeypatch.setattr(crmml.churn, "make_churn_snapshot", recording)
    model_path = tmp_path / "churn.zip"
    assert main(["train", "churn", "--input", str(path), "--model", str(model_path), "--as-of", "2024-09-01",
                 "--churn-horizon-days", "60"]) == 0
    assert [(c, h) for _, c, h in calls] == [(pd.Timestamp("2024-07-03"), 60)]       # 2024-09-01 - 60 days
    X, y = real(calls[0][0], "2024-07-03", 60)
    assert f"{len(y):,} at-risk customers at 2024-07-03" in capsys.readouterr().err
    # the saved model is the one fitted on that snapshot: the same probabilities as a direct fit
    direct = ChurnModel(random_state=0).fit(X, y.to_numpy())
    saved = load(model_path)
    np.testing.assert_array_equal(saved.predict_proba(X), direct.predict_proba(X))
    # default --as-of: the day after the last line (2024-12-31), so the cut-off is 2024-11-01 with a 60-day horizon
    calls.clear()
    assert main(["--quiet", "train", "churn", "--input", str(path), "--model", str(model_path),
                 "--churn-horizon-days", "60"]) == 0
    assert [(c, h) for _, c, h in calls] == [(pd.Timestamp("2024-11-01"), 60)]
