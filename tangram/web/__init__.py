"""The HTTP face: parse, authorise, call a platform service, render JSON."""

from tangram.web.app import create_app

__all__ = ["create_app"]
