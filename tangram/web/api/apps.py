"""Apps: list, create, read, update."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from tangram.platform import metadata
from tangram.platform.models import App
from tangram.web.api.common import LockedSchema, StrictSchema
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint("apps", __name__, description="Installed apps")

Text = fields.Dict(keys=fields.String(), values=fields.String())


class AppSchema(Schema):
    """An installed app."""

    id = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    description = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    version = fields.String(required=True)
    lock_version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class AppCreateSchema(StrictSchema):
    """A new, empty app."""

    key = fields.String(required=True, validate=validate.Length(min=1, max=63))
    name = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    description = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None)
    version = fields.String(load_default="0.1.0")


class AppUpdateSchema(LockedSchema):
    """Changes to an app; only the fields sent change."""

    name = fields.Dict(keys=fields.String(), values=fields.String())
    description = fields.Dict(keys=fields.String(), values=fields.String())
    version = fields.String()


@blp.route("")
class Apps(MethodView):
    """All apps the caller can see."""

    @blp.response(200, AppSchema(many=True))
    def get(self) -> list[App]:
        """List the apps the caller holds a grant on (all of them for administrators)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return metadata.list_apps(uow, actor)

    @blp.arguments(AppCreateSchema)
    @blp.response(201, AppSchema)
    def post(self, body: dict[str, Any]) -> App:
        """Create an empty app (administrators)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            app = metadata.create_app(uow, actor, **body)
            uow.commit()
        return app


@blp.route("/<string:app>")
class AppItem(MethodView):
    """One app."""

    @blp.response(200, AppSchema)
    def get(self, app: str) -> App:
        """Read an app."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return metadata.get_app(uow, actor, app)

    @blp.arguments(AppUpdateSchema)
    @blp.response(200, AppSchema)
    def patch(self, body: dict[str, Any], app: str) -> App:
        """Change an app's name, description or version (designers of the app)."""
        actor = require_actor()
        lock_version = body.pop("lock_version")
        with platform().unit_of_work() as uow:
            found = metadata.update_app(uow, actor, app, body, lock_version=lock_version)
            uow.commit()
        return found
