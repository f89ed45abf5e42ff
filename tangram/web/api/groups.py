"""Groups: the org tree with managers, and memberships."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.identity import groups
from tangram.platform.kernel.models import Group, User
from tangram.web.api.common import LOCATION, LockedSchema, StrictSchema, created, new_key
from tangram.web.api.users import UserSchema
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/groups"
blp = Blueprint("groups", __name__, description="Org units (a tree, each with a manager)")


class GroupSchema(Schema):
    """An org unit."""

    id = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.String(required=True)
    parent_id = fields.Integer(allow_none=True)
    manager_id = fields.Integer(allow_none=True)
    lock_version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class GroupCreateSchema(StrictSchema):
    """A new org unit."""

    key = new_key()
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_id = fields.Integer(load_default=None, allow_none=True)
    manager_id = fields.Integer(load_default=None, allow_none=True)


class GroupUpdateSchema(LockedSchema):
    """Rename, move or change the manager; only the fields sent change."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    parent_id = fields.Integer(allow_none=True)
    manager_id = fields.Integer(allow_none=True)


class LockArgs(StrictSchema):
    """The lock version a deletion is based on."""

    lock_version = fields.Integer(required=True, validate=validate.Range(min=1))


@blp.route("")
class Groups(MethodView):
    """All groups."""

    @blp.response(200, GroupSchema(many=True))
    def get(self) -> list[Group]:
        """The whole tree as a flat list (``parent_id`` links), for any signed-in user."""
        require_actor()
        with platform().unit_of_work(write=False) as uow:
            return groups.list_groups(uow)

    @blp.arguments(GroupCreateSchema)
    @blp.response(201, GroupSchema, headers=LOCATION)
    def post(self, body: dict[str, Any]) -> tuple[Group, dict[str, str]]:
        """Create a group (administrators)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            group = groups.create_group(uow, actor, **body)
            uow.commit()
        return created(group, "groups.GroupItem", group_id=group.id)


@blp.route("/<int:group_id>")
class GroupItem(MethodView):
    """One group."""

    @blp.response(200, GroupSchema)
    def get(self, group_id: int) -> Group:
        """Read a group."""
        require_actor()
        with platform().unit_of_work(write=False) as uow:
            return groups.get_group(uow, group_id)

    @blp.arguments(GroupUpdateSchema)
    @blp.response(200, GroupSchema)
    def patch(self, body: dict[str, Any], group_id: int) -> Group:
        """Change a group (no cycles in the tree)."""
        actor = require_actor()
        lock_version = body.pop("lock_version")
        with platform().unit_of_work() as uow:
            group = groups.update_group(uow, actor, group_id, body, lock_version=lock_version)
            uow.commit()
        return group

    @blp.arguments(LockArgs, location="query")
    @blp.response(204)
    def delete(self, args: dict[str, Any], group_id: int) -> None:
        """Delete a leaf group (``?lock_version=``)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            groups.delete_group(uow, actor, group_id, lock_version=args["lock_version"])
            uow.commit()


@blp.route("/<int:group_id>/members")
class GroupMembers(MethodView):
    """Members of a group."""

    @blp.response(200, UserSchema(many=True))
    def get(self, group_id: int) -> list[User]:
        """List members."""
        require_actor()
        with platform().unit_of_work(write=False) as uow:
            return groups.group_members(uow, group_id)


@blp.route("/<int:group_id>/members/<int:user_id>")
class GroupMember(MethodView):
    """One membership."""

    @blp.response(204)
    def put(self, group_id: int, user_id: int) -> None:
        """Add a member (idempotent)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            groups.add_member(uow, actor, group_id=group_id, user_id=user_id)
            uow.commit()

    @blp.response(204)
    def delete(self, group_id: int, user_id: int) -> None:
        """Remove a member."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            groups.remove_member(uow, actor, group_id=group_id, user_id=user_id)
            uow.commit()
