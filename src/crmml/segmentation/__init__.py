"""crmml.segmentation (to be built)."""
