"""Importing this package registers every transform family (one import line per family module)."""
# ruff: noqa: I001

from . import categorical  # noqa: F401
from . import columns  # noqa: F401
from . import missing  # noqa: F401
from . import numeric  # noqa: F401
from . import outliers  # noqa: F401
from . import text  # noqa: F401
