"""The caller's in-app notifications."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from tangram.platform.kernel.models import Notification
from tangram.platform.outbound import notify
from tangram.web.api.common import PageArgs, next_after
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/me/notifications"
blp = Blueprint("notifications", __name__, description="In-app notifications of the caller")


class NotificationSchema(Schema):
    """A notification."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    payload = fields.Dict(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class NotificationPageSchema(Schema):
    """One page of notifications."""

    items = fields.List(fields.Nested(NotificationSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True)


class NotificationQuerySchema(PageArgs):
    """Filters."""

    unread = fields.Boolean(load_default=False)


@blp.route("")
class Notifications(MethodView):
    """My notifications."""

    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """My notifications, oldest first (``?unread=true`` for unread ones)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            items = notify.list_for(
                uow, actor, unread=args["unread"], after=args["after"], limit=args["limit"]
            )
        return {"items": items, "next_after": next_after(list(items), args["limit"])}


@blp.route("/<int:notification_id>/read")
class Read(MethodView):
    """Mark read."""

    @blp.response(200, NotificationSchema)
    def post(self, notification_id: int) -> Notification:
        """Mark one of my notifications read (idempotent)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            note = notify.mark_read(uow, actor, notification_id)
            uow.commit()
        return note
