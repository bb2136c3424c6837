"""Real datasets in the standard schema, and a synthetic CRM with known truth."""

from crmml.datasets._loaders import (
    DatasetNotFoundError,
    load_bank_marketing,
    load_cdnow,
    load_cdnow_summary,
    load_grocery,
    load_online_retail,
    shared_data_dir,
)
from crmml.datasets._hillstrom import HILLSTROM_FEATURES, load_hillstrom
from crmml.datasets._synthetic import DEFAULT_SYNTHETIC_PARAMS, SyntheticCRM, make_synthetic_crm

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
