"""Customer lifetime value: summaries, BG/NBD, MBG/NBD, BG/BB, NBD, Pareto/NBD, sBG, Gamma-Gamma, discounted CLV.

Typical use::

    from crmml.clv import CLVModel
    clv = CLVModel(purchase_model="bgnbd", horizon_days=365, discount_rate=0.1).fit(tx, as_of="2024-01-01")
    clv.predict()                  # per customer: p_alive, expected_purchases, expected_spend, clv
    clv.predict_interval()         # 90% intervals on expected purchases and CLV
"""

from crmml.clv._base import ConvergenceError
from crmml.clv._bgbb import BetaGeoBetaBinomModel
from crmml.clv._bgnbd import BetaGeoModel
from crmml.clv._cnbdk import BetaGeoCNBDModel, ModifiedBetaGeoCNBDModel
from crmml.clv._evaluate import calibration_holdout_table, evaluate_holdout
from crmml.clv._feature_model import FeatureCLVModel
from crmml.clv._gammagamma import GammaGammaModel
from crmml.clv._mbgnbd import ModifiedBetaGeoModel
from crmml.clv._model import CLVModel
from crmml.clv._nbd import NBDModel
from crmml.clv._paretonbd import ParetoNBDModel
from crmml.clv._plots import (
    plot_calibration_holdout,
    plot_clv_distribution,
    plot_p_alive_matrix,
)
from crmml.clv._sbg import ShiftedBetaGeometricModel
from crmml.clv._summary import calibration_holdout, summarize
from crmml.clv._tracking import p_alive_path, tracking_table
from crmml.clv._tracking_plots import (
    plot_frequency_recency_matrix,
    plot_p_alive_path,
    plot_period_transactions,
    plot_tracking,
)

__all__ = [
    "summarize",
    "calibration_holdout",
    "BetaGeoModel",
    "ParetoNBDModel",
    "ModifiedBetaGeoModel",
    "BetaGeoBetaBinomModel",
    "NBDModel",
    "BetaGeoCNBDModel",
    "ModifiedBetaGeoCNBDModel",
    "ShiftedBetaGeometricModel",
    "GammaGammaModel",
    "CLVModel",
    "FeatureCLVModel",
    "ConvergenceError",
    "evaluate_holdout",
    "calibration_holdout_table",
    "plot_calibration_holdout",
    "plot_p_alive_matrix",
    "plot_clv_distribution",
    "tracking_table",
    "p_alive_path",
    "plot_tracking",
    "plot_period_transactions",
    "plot_frequency_recency_matrix",
    "plot_p_alive_path",
]
