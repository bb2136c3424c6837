"""Customer segmentation: RFM with named segments, clustering with readable profiles, rule segments.

- :func:`rfm_table`, :class:`RFMSegmenter`, :func:`segment_summary` (``_rfm``),
- :data:`DEFAULT_RFM_SEGMENTS`, :func:`default_rfm_segments` (``_rfm_segments``),
- :class:`CustomerClusterer`, :data:`DEFAULT_NAME_VOCABULARY` (``_clustering``),
- :class:`RuleSegmenter` (``_rules``),
- plots :func:`plot_segment_sizes`, :func:`plot_rf_grid`, :func:`plot_cluster_profiles` (``_plots``).
"""

from crmml.segmentation._clustering import DEFAULT_NAME_VOCABULARY, CustomerClusterer
from crmml.segmentation._plots import plot_cluster_profiles, plot_rf_grid, plot_segment_sizes
from crmml.segmentation._rfm import RFMSegmenter, rfm_table, segment_summary
from crmml.segmentation._rfm_segments import DEFAULT_RFM_SEGMENTS, default_rfm_segments
from crmml.segmentation._rules import RuleSegmenter

__all__ = [
    "CustomerClusterer",
    "DEFAULT_NAME_VOCABULARY",
    "DEFAULT_RFM_SEGMENTS",
    "RFMSegmenter",
    "RuleSegmenter",
    "default_rfm_segments",
    "plot_cluster_profiles",
    "plot_rf_grid",
    "plot_segment_sizes",
    "rfm_table",
    "segment_summary",
]
