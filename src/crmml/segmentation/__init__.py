"""Customer segmentation: RFM with named segments, clustering with readable profiles, rule segments.

- :func:`rfm_table`, :class:`RFMSegmenter`, :func:`segment_summary` (``_rfm``),
- :data:`DEFAULT_RFM_SEGMENTS`, :func:`default_rfm_segments` (``_rfm_segments``),
- :class:`CustomerClusterer`, :data:`DEFAULT_NAME_VOCABULARY` (``_clustering``),
- :class:`RuleSegmenter` (``_rules``),
- plots :func:`plot_segment_sizes`, :func:`plot_rf_grid`, :func:`plot_cluster_profiles` (``_plots``).
"""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.segmentation._clustering": ("DEFAULT_NAME_VOCABULARY", "CustomerClusterer"),
    "crmml.segmentation._plots": ("plot_cluster_profiles", "plot_rf_grid", "plot_segment_sizes"),
    "crmml.segmentation._rfm": ("RFMSegmenter", "rfm_table", "segment_summary"),
    "crmml.segmentation._rfm_segments": ("DEFAULT_RFM_SEGMENTS", "default_rfm_segments"),
    "crmml.segmentation._rules": ("RuleSegmenter",),
}

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

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
