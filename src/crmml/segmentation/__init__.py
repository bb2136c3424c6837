"""Customer segmentation: RFM with named segments, clustering with readable profiles, rule segments.

- :func:`rfm_table` and :class:`RFMSegmenter` (``crmml.segmentation._rfm``),
- :class:`CustomerClusterer` (``_clustering``),
- :class:`RuleSegmenter` (``_rules``),
- plots: :func:`plot_segment_sizes`, :func:`plot_rf_grid`, :func:`plot_cluster_profiles` (``_plots``).
"""

from crmml.segmentation._rfm import (
    DEFAULT_RFM_SEGMENTS,
    RFMSegmenter,
    default_rfm_segments,
    rfm_table,
    segment_summary,
)

__all__ = [
    "DEFAULT_RFM_SEGMENTS",
    "RFMSegmenter",
    "default_rfm_segments",
    "rfm_table",
    "segment_summary",
]
