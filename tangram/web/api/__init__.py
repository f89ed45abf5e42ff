"""One blueprint per resource under ``/api/v1``."""

from __future__ import annotations

from typing import Any

from tangram.web.api import (
    apps,
    audit,
    auth,
    comments,
    definitions,
    files,
    groups,
    health,
    help,
    imports,
    intake,
    jobs,
    mail,
    notifications,
    records,
    reports,
    roles,
    runtime,
    status,
    surveys,
    tasks,
    users,
)


def register_blueprints(api: Any) -> None:
    """Register every API blueprint on the flask-smorest ``Api``."""
    modules = (
        health,
        auth,
        notifications,
        users,
        groups,
        roles,
        apps,
        runtime,
        definitions,
        records,
        comments,
        imports,
        reports,
        files,
        intake,
        status,
        surveys,
        help,
        audit,
        jobs,
        mail,
        tasks,
    )
    for module in modules:
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.PREFIX}")
    # answered by an operation whose 200 is one of two shapes (documented by reference)
    api.spec.components.schema("Change", schema=definitions.ChangeSchema)
    api.spec.components.schema("FormChanges", schema=definitions.FormChangesSchema)
