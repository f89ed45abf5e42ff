"""``GET /api/v1/health``: is the service up and its database reachable and migrated."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tangram import __version__
from tangram.platform.kernel import migrate
from tangram.platform.kernel.errors import TangramError
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, public

PREFIX = "/health"
blp = Blueprint("health", __name__, description="Liveness and readiness")


class Unavailable(TangramError):
    """The database cannot be reached or is not migrated."""

    status = 503
    title = "Service unavailable"
    default_code = "service.unavailable"


class HealthSchema(Schema):
    """What the health check reports."""

    status = fields.String(required=True)
    version = fields.String(required=True)
    database = fields.String(required=True)
    schema_revision = fields.String(allow_none=True)


@blp.route("")
@public
class Health(MethodView):
    """Health of this instance."""

    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """Report version, database dialect and schema revision (503 when the database is down)."""
        engine = platform().engine
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            revision = migrate.current_revision(engine)
        except SQLAlchemyError as exc:
            raise Unavailable(f"The database cannot be reached ({type(exc).__name__}).") from exc
        if revision != migrate.head_revision():
            raise Unavailable(
                "The database schema is not up to date: run 'tangram db upgrade'.",
                code="service.migrations_pending",
            )
        return {
            "status": "ok",
            "version": __version__,
            "database": engine.dialect.name,
            "schema_revision": revision,
        }
