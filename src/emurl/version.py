"""emurl's version (one place; pyproject.toml's must match, a test checks it)."""

__version__ = "0.1.0"
