"""Lead scoring benchmark: fit / score / explain time, peak memory and accuracy on bank marketing.

Run: python benchmarks/bench_scoring.py [--cv 5] [--repeat 1]
Prints one line per step. Data: the bank-marketing copy shipped in datasets/ (41,188 leads, no `duration`),
and 200,000 synthetic leads with events for scoring throughput.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", type=int, default=5)
    args = ap.parse_args()

    from sklearn.model_selection import train_test_split

    from crmml.datasets import load_bank_marketing, make_synthetic_crm
    from crmml.scoring import LeadScorer

    leads = load_bank_marketing(sample=True)
    train, test = train_test_split(leads, test_size=0.25, stratify=leads["converted"], random_state=0)

    t = time.perf_counter()
    scorer = LeadScorer(cv=args.cv, random_state=0).fit(train)
    t_fit = time.perf_counter() - t
    cv = scorer.cv_results_
    print(f"bank fit (auto, cv={args.cv}, {len(train)} leads): {t_fit:.1f} s; chosen {scorer.model_kind_}; "
          + "; ".join(f"{k} CV ROC-AUC {r.roc_auc:.4f} PR-AUC {r.pr_auc:.4f}" for k, r in cv.iterrows()))
    ev = scorer.evaluate(test)
    rates = ev["grades"]["conversion_rate"].round(3).tolist()
    print(f"bank held-out ({len(test)} leads): ROC-AUC {ev['roc_auc']:.4f} PR-AUC {ev['pr_auc']:.4f} "
          f"top-decile lift {ev['gains']['lift'].iloc[0]:.2f}; conversion A..D {rates}")

    big = pd.concat([leads] * 5, ignore_index=True).assign(lead_id=lambda d: np.arange(1, len(d) + 1))
    t = time.perf_counter()
    scorer.score_leads(big)
    t_score = time.perf_counter() - t
    print(f"score_leads: {len(big)} leads in {t_score:.2f} s ({len(big) / t_score:,.0f} leads/s)")
    for n_exp, approx in ((5_000, False), (20_000, True)):
        t = time.perf_counter()
        scorer.explain(big.head(n_exp), approximate=approx)
        t_exp = time.perf_counter() - t
        print(f"explain(top_n=3, approximate={approx}): {n_exp:,} leads in {t_exp:.2f} s "
              f"({n_exp / t_exp:,.0f} leads/s)")

    crm = make_synthetic_crm(n_customers=400, seed=0, n_leads=50_000)
    syn = crm.leads.assign(score_time=crm.leads["created_at"] + pd.Timedelta(days=14))
    t = time.perf_counter()
    s2 = LeadScorer(cv=3, random_state=0).fit(syn, crm.lead_events)
    t_fit2 = time.perf_counter() - t
    t = time.perf_counter()
    s2.score_leads(syn, crm.lead_events)
    t_s2 = time.perf_counter() - t
    print(f"synthetic with events: fit {len(syn)} leads / {len(crm.lead_events)} events (cv=3, 3 models) "
          f"{t_fit2:.1f} s; score {t_s2:.2f} s; chosen {s2.model_kind_}, CV ROC-AUC "
          f"{s2.evaluate()['roc_auc']:.4f}")
    print(f"peak memory (ru_maxrss): {_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
