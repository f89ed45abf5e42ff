"""The caller's in-app notifications."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.kernel.models import Notification
from tangram.platform.outbound import notify
from tangram.web.api.common import PageArgs, StrictSchema, next_after
from tangram.web.decoding import ID_MAX, Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/me/notifications"
blp = Blueprint("notifications", __name__, description="In-app notifications of the caller")


class NotificationSchema(Schema):
    """A notification."""

    id = fields.Integer(required=True)
    kind = fields.String(
        required=True,
        metadata={
            "description": "task, urge, reminder, escalation, cc, rule, mention, incident, "
            "job_dead, ..."
        },
    )
    title = fields.String(required=True)
    body = fields.String(required=True)
    payload = fields.Dict(
        required=True,
        metadata={
            "description": "What it is about: `app`, `form` and `record` for a record (a "
            "mention adds `comment` and `author`), `task_id` for a task, `job` for a job"
        },
    )
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)


class NotificationPageSchema(Schema):
    """One page of notifications."""

    items = fields.List(fields.Nested(NotificationSchema), required=True)
    next_after = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "Oldest first: pass as `after` for the next page."},
    )
    next_before = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "With `newest_first`: pass as `before` for the next page."},
    )
    unread = fields.Integer(
        required=True, metadata={"description": "How many of the caller's are unread, in all."}
    )


class NotificationQuerySchema(PageArgs):
    """Filters and paging."""

    unread = fields.Boolean(load_default=False)
    newest_first = fields.Boolean(
        load_default=False,
        metadata={"description": "Newest first, before `before` (`after` is then ignored)."},
    )
    before = fields.Integer(
        load_default=None, validate=validate.Range(min=1, max=ID_MAX), allow_none=True
    )


class ReadAllSchema(StrictSchema):
    """Which notifications to mark read."""

    up_to = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=ID_MAX),
        metadata={
            "description": "Only those up to this id (the newest one shown): one that arrived "
            "meanwhile stays unread. All of them without it."
        },
    )


class ReadAllAnswerSchema(Schema):
    """What marking read did."""

    marked = fields.Integer(required=True)
    unread = fields.Integer(required=True)


@blp.route("")
class Notifications(MethodView):
    """My notifications."""

    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """My notifications, oldest first (``?unread=true`` for unread ones; ``?newest_first=true``
        for the newest first, as a bell lists them), and how many are unread in all."""
        actor = require_actor()
        newest = args["newest_first"]
        with platform().unit_of_work(write=False) as uow:
            items = notify.list_for(
                uow,
                actor,
                unread=args["unread"],
                after=args["after"],
                limit=args["limit"],
                newest_first=newest,
                before=args["before"],
            )
            unread = notify.unread_count(uow, actor)
        following = next_after(list(items), args["limit"])
        return {
            "items": items,
            "next_after": None if newest else following,
            "next_before": following if newest else None,
            "unread": unread,
        }


@blp.route("/read")
class ReadAll(MethodView):
    """Mark all read."""

    @blp.arguments(ReadAllSchema)
    @blp.response(200, ReadAllAnswerSchema)
    def post(self, args: dict[str, Any]) -> dict[str, int]:
        """Mark all my unread notifications read (or those up to ``up_to``); how many were, and
        how many stay unread."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            marked = notify.mark_all_read(uow, actor, up_to=args["up_to"])
            unread = notify.unread_count(uow, actor)
            uow.commit()
        return {"marked": marked, "unread": unread}


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
