"""Importing this package registers every transform family."""

from . import columns  # noqa: F401
