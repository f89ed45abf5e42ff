"""Tangram: a low-code metadata platform.

Four generic engines (forms, rules, flows, reports) interpret JSON metadata stored in the database;
app packages assemble them into solutions. ``tangram.engines`` is pure, ``tangram.platform`` persists
and applies engine effects, ``tangram.web`` is the HTTP face.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tangram")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
