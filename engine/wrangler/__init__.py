"""The data wrangler: a registry of transforms, flows that chain them, and export to a standalone script.
Pure Python (pandas, numpy, scikit-learn); never imports the studio."""

from .custom import CustomCodeLimits
from .errors import TransformError
from .flow import FlowResult, Step, StepReport, flow_run, sample_rows
from .registry import Param, Transform, fitter, params_check, transform, transform_get, transform_list

__all__ = [
    "CustomCodeLimits", "FlowResult", "Param", "Step", "StepReport", "Transform", "TransformError", "fitter", "flow_run",
    "params_check", "sample_rows", "transform", "transform_get", "transform_list",
]
