"""crmml.recommend (to be built)."""
