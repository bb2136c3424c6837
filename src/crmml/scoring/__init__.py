"""crmml.scoring (to be built)."""
