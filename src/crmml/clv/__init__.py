"""crmml.clv (to be built)."""
