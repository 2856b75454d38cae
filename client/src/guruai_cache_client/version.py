"""The package's version, from its installed metadata (pyproject.toml's `version`), and the
User-Agent that names it to the Worker's logs."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("guruai-cache-client")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

USER_AGENT = f"guruai-cache-client/{__version__}"
