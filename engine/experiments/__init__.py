"""Experiment tracking without Django: the run search language, checks of logged values and run comparison."""

from .batch import (
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_PER_BATCH,
    MAX_TAGS_PER_BATCH,
    BatchError,
    MetricPoint,
    check_metrics,
    check_strings,
    latest_values,
)
from .compare import differing_keys
from .search import Comparison, OrderBy, SearchError, as_number, like_regex, parse_filter, parse_order_by

__all__ = [
    "MAX_METRICS_PER_BATCH", "MAX_PARAMS_PER_BATCH", "MAX_TAGS_PER_BATCH", "BatchError", "Comparison",
    "MetricPoint", "OrderBy", "SearchError", "as_number", "check_metrics", "check_strings", "differing_keys",
    "latest_values", "like_regex", "parse_filter", "parse_order_by",
]
