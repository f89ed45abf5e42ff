"""Inbound e-mail: the messages the SMTP endpoint received, their states, and retrying the
dead ones (administrators)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.identity.perms import require_admin
from tangram.platform.inbound import service
from tangram.platform.kernel.models import InboundMail, InboundMailState
from tangram.web.api.common import PageArgs, next_after
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/mail"
blp = Blueprint("mail", __name__, description="Inbound e-mail")


class InboundMailSchema(Schema):
    """A received message (its raw bytes stay on the server)."""

    id = fields.Integer(required=True)
    recipient = fields.String(required=True)
    envelope_from = fields.String(required=True)
    sender = fields.String(required=True)
    subject = fields.String(required=True)
    message_id = fields.String(required=True)
    size = fields.Integer(required=True)
    state = fields.String(required=True, metadata={"enum": [s.value for s in InboundMailState]})
    outcome = fields.String(
        required=True,
        metadata={
            "description": "created, replied; why it was refused (auto_submitted, bulk, "
            "auto_reply, list, bounce, loop, no_sender, rate_limited, no_channel); failed when dead"
        },
    )
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True)
    record_id = fields.Integer(allow_none=True)
    comment_id = fields.Integer(allow_none=True)
    acknowledged = fields.Boolean(required=True)
    received_at = fields.DateTime(required=True)
    processed_at = fields.DateTime(allow_none=True)


class InboundMailPageSchema(Schema):
    """One page of received messages."""

    items = fields.List(fields.Nested(InboundMailSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True)


class InboundMailQuerySchema(PageArgs):
    """Filters of the list."""

    state = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in InboundMailState])
    )


@blp.route("/inbound")
class InboundMails(MethodView):
    """Received messages."""

    @blp.arguments(InboundMailQuerySchema, location="query")
    @blp.response(200, InboundMailPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Messages by id, optionally of one state (e.g. ``dead`` or ``refused``)."""
        require_admin(require_actor(), "inspect inbound mail")
        with platform().unit_of_work(write=False) as uow:
            items = service.list_mails(
                uow, state=args["state"], after=args["after"], limit=args["limit"]
            )
        return {"items": items, "next_after": next_after(list(items), args["limit"])}


@blp.route("/inbound/<int:mail_id>/retry")
class Retry(MethodView):
    """Process a dead message again."""

    @blp.response(200, InboundMailSchema)
    def post(self, mail_id: int) -> InboundMail:
        """Put a dead message back to ``received`` and queue its processing (409 otherwise)."""
        actor = require_actor()
        require_admin(actor, "retry inbound mail")
        with platform().unit_of_work() as uow:
            row = service.retry(uow, actor, mail_id)
            uow.commit()
        return row
