"""Real datasets in the standard schema, and a synthetic CRM with known truth."""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.datasets._loaders": ("DatasetNotFoundError", "load_bank_marketing", "load_cdnow", "load_cdnow_summary", "load_grocery", "load_online_retail", "shared_data_dir"),
    "crmml.datasets._hillstrom": ("HILLSTROM_FEATURES", "load_hillstrom"),
    "crmml.datasets._synthetic": ("DEFAULT_SYNTHETIC_PARAMS", "SyntheticCRM", "make_synthetic_crm"),
}

__all__ = [
    "DatasetNotFoundError",
    "DEFAULT_SYNTHETIC_PARAMS",
    "HILLSTROM_FEATURES",
    "SyntheticCRM",
    "load_bank_marketing",
    "load_cdnow",
    "load_cdnow_summary",
    "load_grocery",
    "load_hillstrom",
    "load_online_retail",
    "make_synthetic_crm",
    "shared_data_dir",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
