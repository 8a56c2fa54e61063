"""The data quality and insights report (pure Python: pandas, numpy, scikit-learn, xgboost)."""

from .errors import InsightsError
from .model import PROBLEM_TYPES
from .report import SAMPLE_ROWS, insights_report

__all__ = ["PROBLEM_TYPES", "SAMPLE_ROWS", "InsightsError", "insights_report"]
