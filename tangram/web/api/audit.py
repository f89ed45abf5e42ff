"""The audit log: verify the chain, page through entries (administrators)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.identity.perms import require_admin
from tangram.platform.kernel import audit, checkpoints
from tangram.web.api.common import PageArgs
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/audit"
blp = Blueprint("audit", __name__, description="The hash-chained audit log")


class VerificationSchema(Schema):
    """Outcome of walking the chain."""

    ok = fields.Boolean(required=True)
    checked = fields.Integer(
        required=True, metadata={"description": "intact chained entries before any break"}
    )
    waiting = fields.Integer(
        required=True,
        metadata={"description": "intact entries queued, waiting for the sequencer to chain them"},
    )
    broken_seq = fields.Integer(allow_none=True, required=True)
    broken_id = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "id of the broken entry (a queued one has no sequence number)"},
    )
    reason = fields.String(allow_none=True, required=True)


class AuditQuerySchema(PageArgs):
    """Filters of the entry list."""

    object_type = fields.String(load_default=None, validate=validate.Length(max=64))
    object_id = fields.String(load_default=None, validate=validate.Length(max=200))


class EntrySchema(Schema):
    """One audit entry."""

    id = fields.Integer(required=True, metadata={"description": "insertion order"})
    seq = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "place in the chain (null: queued)"},
    )
    at = fields.DateTime(required=True)
    actor_id = fields.Integer(allow_none=True)
    actor = fields.String(required=True)
    action = fields.String(required=True)
    object_type = fields.String(required=True)
    object_id = fields.String(required=True)
    payload = fields.Dict(required=True)
    prev_hash = fields.String(required=True, allow_none=True)
    hash = fields.String(required=True, allow_none=True)


class EntryPageSchema(Schema):
    """One page of entries."""

    items = fields.List(fields.Nested(EntrySchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True)


@blp.route("/verify")
class Verify(MethodView):
    """Chain verification."""

    @blp.response(200, VerificationSchema)
    def get(self) -> dict[str, Any]:
        """Walk the whole chain, every signed checkpoint and the entries waiting for the sequencer,
        and report the first broken link, if any (200 either way)."""
        require_admin(require_actor(), "verify the audit log")
        with platform().unit_of_work(write=False) as uow:
            key = checkpoints.audit_key(platform().settings)
            return audit.verify(uow.session, key=key).as_dict()


@blp.route("")
class Entries(MethodView):
    """Audit entries."""

    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, EntryPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Entries after id ``after`` (in insertion order, queued ones too), optionally for one
        object."""
        require_admin(require_actor(), "read the audit log")
        with platform().unit_of_work(write=False) as uow:
            items = audit.list_entries(
                uow.session,
                after=args["after"],
                limit=args["limit"],
                object_type=args["object_type"],
                object_id=args["object_id"],
            )
        last = items[-1].id if len(items) == args["limit"] else None
        return {"items": items, "next_after": last}
