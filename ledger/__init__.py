"""housing-ledger: the write side (see docs/architecture.md)."""

#: The release (pyproject.toml reads it: `[tool.setuptools.dynamic]`).
__version__ = "0.1.0"
