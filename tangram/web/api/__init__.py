"""One blueprint per resource under ``/api/v1``."""

from __future__ import annotations

from typing import Any

from tangram.web.api import apps, auth, definitions, groups, health, roles, users


def register_blueprints(api: Any) -> None:
    """Register every API blueprint on the flask-smorest ``Api``."""
    for module in (health, auth, users, groups, roles, apps, definitions):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.PREFIX}")
