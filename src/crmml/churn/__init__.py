"""crmml.churn (to be built)."""
