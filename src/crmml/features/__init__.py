"""crmml.features (to be built)."""
