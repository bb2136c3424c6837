"""Write the committed crmml 0.1 model files and their recorded predictions (run once, with crmml 0.1.0).

    PYTHONPATH=src python tests/data/models_v0_1/make.py

Each model is fitted on a tiny synthetic CRM (``make_synthetic_crm(n_customers=300, seed=11)``) and saved with
``crmml.persistence.save`` as ``<name>.zip``. The model-level input each is scored on (an RFM table, a churn
feature matrix, a leads frame, customer ids) is stored as ``<name>_input.parquet`` and what the model returned
as ``<name>_expected.parquet``, so ``tests/persistence/test_legacy_models.py`` can check, in every later release,
that these files still load and give the same answers. Do not re-run this script in a later release: the point
of the files is that they were written by 0.1.0.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from crmml import __version__
from crmml.churn import ChurnModel, make_churn_snapshot
from crmml.clv import CLVModel
from crmml.datasets import make_synthetic_crm
from crmml.persistence import save
from crmml.recommend import NextBestOffer
from crmml.scoring import LeadScorer, RuleLeadScorer
from crmml.segmentation import CustomerClusterer, RFMSegmenter, RuleSegmenter, rfm_table

HERE = Path(__file__).parent


def _frame(out) -> pd.DataFrame:
    if isinstance(out, pd.DataFrame):
        return out.reset_index()
    return pd.DataFrame(np.asarray(out).reshape(len(out), -1)).rename(columns=str)


def main() -> None:
    crm = make_synthetic_crm(n_customers=300, seed=11)
    tx = crm.transactions
    as_of = crm.start + pd.Timedelta(days=500)
    rfm = rfm_table(tx, as_of)
    X, y = make_churn_snapshot(tx, as_of, 60, windows=(30, 90, 365))
    rng = np.random.default_rng(0)
    bant = pd.DataFrame({"lead_id": np.arange(1, 41), **{c: rng.integers(0, 2, 40) for c in
                                                         ("budget", "authority", "need", "timeline")}})
    ids = pd.DataFrame({"customer_id": crm.customers["customer_id"].to_numpy()[:40]})
    cases = {
        "rfm_segmenter": (RFMSegmenter().fit(rfm), rfm, lambda m, d: m.transform(d)),
        "clusterer": (CustomerClusterer(n_clusters=3, random_state=0).fit(rfm), rfm, lambda m, d: m.transform(d)),
        "rule_segmenter": (RuleSegmenter({"big": "monetary > 500", "active": "recency < 30"},
                                         default="other").fit(rfm), rfm, lambda m, d: m.transform(d)),
        "clv": (CLVModel(horizon_days=180).fit(tx, as_of), ids, lambda m, d: m.predict().loc[d["customer_id"]]),
        "churn": (ChurnModel(n_estimators=20, learning_rate=0.3, min_child_weight=2.0, early_stopping_rounds=20,
                               n_jobs=1, random_state=0).fit(X, y.to_numpy()), X,
                  lambda m, d: m.predict_proba(d)),
        "lead_scorer": (LeadScorer(model="logistic", cv=2, random_state=0).fit(crm.leads), crm.leads,
                        lambda m, d: m.score_leads(d)),
        "rule_lead_scorer": (RuleLeadScorer().fit(), bant, lambda m, d: m.score_leads(d)),
        "next_best_offer": (NextBestOffer().fit(tx, crm.products, as_of=as_of), ids,
                            lambda m, d: m.recommend(d["customer_id"].to_numpy(), k=3)),
    }
    for name, (model, data, predict) in cases.items():
        save(model, HERE / f"{name}.zip")
        data.to_parquet(HERE / f"{name}_input.parquet")
        _frame(predict(model, data)).to_parquet(HERE / f"{name}_expected.parquet")
    (HERE / "VERSION").write_text(f"{__version__}\n")


if __name__ == "__main__":
    main()
