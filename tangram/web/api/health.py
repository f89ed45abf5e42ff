"""``GET /api/v1/health`` (liveness) and ``GET /api/v1/health/ready`` (readiness).

Liveness answers whether the process serves requests at all: it reads no file and asks the
database nothing, so a load balancer or an orchestrator may call it every second at no cost, and
a database outage does not get every app server restarted. Readiness answers whether this
process should be sent traffic: the database answers (one query) and its schema is the one this
release was built for. The release's migration chain is read once, when the app is created.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask.views import MethodView
from marshmallow import Schema, fields

from tangram import __version__
from tangram.platform.kernel import migrate
from tangram.platform.kernel.errors import TangramError
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, public

PREFIX = "/health"
blp = Blueprint("health", __name__, description="Liveness and readiness")
#: Where the app keeps the release's migration chain (read once, at creation).
SCHEMA_KEY = "tangram_release_schema"


class Unavailable(TangramError):
    """The database cannot be reached or its schema is not this release's."""

    status = 503
    title = "Service unavailable"
    default_code = "service.unavailable"


class HealthSchema(Schema):
    """What the liveness check reports: this process answers."""

    status = fields.String(required=True, metadata={"enum": ["ok"]})
    version = fields.String(required=True, metadata={"description": "Tangram's version"})
    database = fields.String(
        required=True, metadata={"description": "the database's dialect (sqlite, postgresql)"}
    )


class ReadinessSchema(HealthSchema):
    """What the readiness check reports: the database answers at this release's schema."""

    status = fields.String(required=True, metadata={"enum": ["ready"]})
    schema_revision = fields.String(
        required=True, metadata={"description": "the database's schema revision"}
    )


def init_app(app: Flask) -> None:
    """Read the release's migration chain once for the readiness check."""
    app.extensions[SCHEMA_KEY] = migrate.release_schema()


@blp.route("")
@public
class Health(MethodView):
    """Liveness of this process."""

    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """Report that this process serves requests, with its version and database dialect.

        No database query and no file read: ``/health/ready`` checks the database.
        """
        return {"status": "ok", "version": __version__, "database": platform().engine.dialect.name}


@blp.route("/ready")
@public
class Ready(MethodView):
    """Readiness of this process."""

    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self) -> dict[str, Any]:
        """Check that the database answers, at this release's schema revision.

        Otherwise 503 with the code ``service.database_unreachable``,
        ``service.migrations_pending`` (run ``tangram db upgrade``) or ``service.schema_unknown``
        (a newer release migrated the database).
        """
        engine = platform().engine
        release: migrate.ReleaseSchema = current_app.extensions[SCHEMA_KEY]
        try:
            revisions = migrate.stored_revisions(engine)
        except migrate.DatabaseUnreachable as exc:
            raise Unavailable(
                f"The database cannot be reached ({exc}).", code="service.database_unreachable"
            ) from exc
        if revisions != (release.head,):
            raise _schema_problem(revisions, release)
        return {
            "status": "ready",
            "version": __version__,
            "database": engine.dialect.name,
            "schema_revision": revisions[0],
        }


def _schema_problem(revisions: tuple[str, ...], release: migrate.ReleaseSchema) -> Unavailable:
    """Why the database's schema is not the release's: behind it, or unknown to it."""
    found = ", ".join(revisions) or "none (never migrated)"
    if all(revision in release.known for revision in revisions):
        return Unavailable(
            f"The database schema is at revision {found}, this release needs {release.head}:"
            " run 'tangram db upgrade'.",
            code="service.migrations_pending",
        )
    return Unavailable(
        f"The database schema is at revision {found}, which this release does not know"
        f" (it needs {release.head}): a newer release migrated it; deploy that release.",
        code="service.schema_unknown",
    )
