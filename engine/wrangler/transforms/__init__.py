"""Importing this package registers every transform family (one import line per family module)."""
# ruff: noqa: I001

from . import balance  # noqa: F401
from . import categorical  # noqa: F401
from . import clean_categories  # noqa: F401
from . import columns  # noqa: F401
from . import combine  # noqa: F401
from . import custom  # noqa: F401
from . import datetimes  # noqa: F401
from . import dimensionality  # noqa: F401
from . import formula_columns  # noqa: F401
from . import missing  # noqa: F401
from . import numeric  # noqa: F401
from . import outliers  # noqa: F401
from . import reshape  # noqa: F401
from . import rows  # noqa: F401
from . import split  # noqa: F401
from . import text  # noqa: F401
from . import time_series  # noqa: F401
