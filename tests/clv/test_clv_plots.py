"""CLV plots draw on the given Axes and show the data they claim to."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmml.clv import (BetaGeoModel, plot_calibration_holdout, plot_clv_distribution,  # noqa: E402
                       plot_p_alive_matrix)
from crmml.datasets import load_cdnow_summary  # noqa: E402


def test_plots_use_given_axes():
    s = load_cdnow_summary()
    m = BetaGeoModel().fit(s)
    fig, axes = plt.subplots(1, 3)
    hold = s.assign(frequency_holdout=s["frequency"], duration_holdout=39.0)
    assert plot_calibration_holdout(m, hold, ax=axes[0]) is axes[0]
    assert len(axes[0].lines) == 2
    ax = plot_p_alive_matrix(m, T=39, max_frequency=10, ax=axes[1])
    img = ax.images[0].get_array()
    assert img.shape == (11, 60) and np.nanmin(img) >= 0 and np.nanmax(img) <= 1
    assert np.allclose(img[0], 1.0)  # no repeat purchase: alive under BG/NBD
    pred = pd.DataFrame({"clv": np.r_[np.zeros(50), np.arange(1, 51.0)]})
    assert plot_clv_distribution(pred, ax=axes[2]) is axes[2]
    assert "top 10%" in axes[2].get_title()
    with pytest.raises(ValueError, match="predictions has no column 'value'"):
        plot_clv_distribution(pred, column="value")
    plt.close("all")
