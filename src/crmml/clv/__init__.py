"""Customer lifetime value: summaries, BG/NBD, MBG/NBD, BG/BB, NBD, Pareto/NBD, sBG, Gamma-Gamma, discounted CLV.

Typical use::

    from crmml.clv import CLVModel
    clv = CLVModel(purchase_model="bgnbd", horizon_days=365, discount_rate=0.1).fit(tx, as_of="2024-01-01")
    clv.predict()                  # per customer: p_alive, expected_purchases, expected_spend, clv
    clv.predict_interval()         # 90% intervals on expected purchases and CLV
"""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.clv._base": ('ConvergenceError',),
    "crmml.clv._bgbb": ('BetaGeoBetaBinomModel',),
    "crmml.clv._bgnbd": ('BetaGeoModel',),
    "crmml.clv._cnbdk": ('BetaGeoCNBDModel', 'ModifiedBetaGeoCNBDModel'),
    "crmml.clv._evaluate": ('calibration_holdout_table', 'evaluate_holdout'),
    "crmml.clv._feature_model": ('FeatureCLVModel',),
    "crmml.clv._gammagamma": ('GammaGammaModel',),
    "crmml.clv._mbgnbd": ('ModifiedBetaGeoModel',),
    "crmml.clv._model": ('CLVModel',),
    "crmml.clv._nbd": ('NBDModel',),
    "crmml.clv._paretonbd": ('ParetoNBDModel',),
    "crmml.clv._plots": ('plot_calibration_holdout', 'plot_clv_distribution', 'plot_p_alive_matrix'),
    "crmml.clv._sbg": ('ShiftedBetaGeometricModel',),
    "crmml.clv._summary": ('calibration_holdout', 'summarize'),
    "crmml.clv._tracking": ('p_alive_path', 'tracking_table'),
    "crmml.clv._tracking_plots": ('plot_frequency_recency_matrix', 'plot_p_alive_path', 'plot_period_transactions', 'plot_tracking'),
}

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

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
