"""Screenshots of every report in headless Chromium (Debian's ``chromium``; CI installs it).

The pages are rendered exactly as a reviewer opens them (a file:// URL, offline). Each screenshot
must show a page with text, plots and colour. Set ``CRMML_SCREENSHOT_DIR`` to keep the PNGs.
"""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (CI installs "
                                                          "Debian's chromium package in .ci/run)")]


def _shoot(html: Path, png: Path, height: int) -> np.ndarray:
    from PIL import Image

    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--no-first-run", "--disable-extensions", f"--user-data-dir={png.parent / 'profile'}",
                    f"--window-size=1200,{height}", f"--screenshot={png}", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return np.asarray(Image.open(png).convert("RGB"), dtype=float)


def _reports(out: Path) -> dict:
    from crmml.clv import CLVModel
    from crmml.datasets import make_synthetic_crm
    from crmml.evaluation import (
        classification_report,
        clv_report,
        drift_report,
        leads_report,
        segments_report,
    )
    from crmml.scoring import LeadScorer
    from crmml.segmentation import CustomerClusterer

    rng = np.random.default_rng(0)
    n = 800
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x - 1)))).astype(int)
    p = 1 / (1 + np.exp(-(x - 1)))
    base = 1 / (1 + np.exp(-(0.4 * x + rng.normal(size=n) - 1)))
    crm = make_synthetic_crm(n_customers=50, n_leads=500, seed=3, with_events=True)
    leads = crm.leads.assign(score_time=crm.leads["created_at"] + pd.Timedelta(days=14))
    scorer = LeadScorer(model="logistic", cv=3).fit(leads, crm.lead_events)
    X = pd.DataFrame({"recency": rng.exponential(60, n), "monetary": rng.lognormal(4, 1, n)},
                     index=pd.RangeIndex(n, name="customer_id"))
    seg = pd.Series(np.where(X["recency"] < 30, "recent", "lapsed"), index=X.index)
    old = pd.Series(np.where(X["recency"] < 60, "recent", "lapsed"), index=X.index)
    clv = make_synthetic_crm(n_customers=300, seed=1, with_events=False).transactions
    return {
        "churn": classification_report(out / "churn.html", y, p, baseline_prob=base, baseline_name="recency only",
                                       title="Churn risk", n_boot=50, cost_per_contact=1, value_per_event=8),
        "leads": leads_report(out / "leads.html", scorer, leads, crm.lead_events, n_leads=10, n_boot=30),
        "drift": drift_report(out / "drift.html", X, X * [1.5, 1.0]),
        "segments": segments_report(out / "segments.html", seg, X, previous_segments=old, X=X,
                                    clusterer=CustomerClusterer(n_clusters=3, random_state=0).fit(X)),
        "clv": clv_report(out / "clv.html", CLVModel(freq="W").fit(clv, as_of="2024-01-01"), clv, end="2024-07-01"),
    }


def test_every_report_renders_in_headless_chromium(tmp_path):
    keep = os.environ.get("CRMML_SCREENSHOT_DIR")
    shots = Path(keep) if keep else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for name, html in _reports(tmp_path).items():
        img = _shoot(html, shots / f"{name}.png", height=2400)
        assert img.shape == (2400, 1200, 3), name
        grey = img.mean(axis=2)
        assert (grey < 100).mean() > 0.001, name                          # dark text and lines: not a blank page
        assert len(np.unique(grey)) > 50, name                            # anti-aliased plots and text
        colour = np.abs(img[..., 0] - img[..., 2]) > 60                    # blue model / orange baseline curves
        assert colour.mean() > 0.0005, name
