"""Roles, their grants per app and form, and who holds them."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.identity import roles, users
from tangram.platform.identity.perms import ACTIONS, require_admin
from tangram.platform.kernel.models import Grant, Role, User
from tangram.web.api.common import LOCATION, LockedSchema, StrictSchema, created, new_key
from tangram.web.api.groups import LockArgs
from tangram.web.api.users import UserSchema
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/roles"
blp = Blueprint("roles", __name__, description="Roles, grants and role assignments")


class RoleSchema(Schema):
    """A role."""

    id = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    is_system = fields.Boolean(required=True)
    lock_version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class RoleCreateSchema(StrictSchema):
    """A new role."""

    key = new_key()
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=1000))


class RoleUpdateSchema(LockedSchema):
    """Rename or describe a role."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=1000))


class GrantSchema(Schema):
    """What a role may do on an app's forms."""

    id = fields.Integer(required=True)
    role_id = fields.Integer(required=True)
    app_key = fields.String(required=True)
    form_key = fields.String(required=True)
    actions = fields.List(fields.String(), required=True)
    scope = fields.String(required=True)
    field_rules = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={
            "description": "fields of the form its holders may not write (read_only) or may "
            "neither read nor write (hidden)"
        },
    )
    created_at = fields.DateTime(required=True)


class GrantCreateSchema(StrictSchema):
    """A new grant: ``*`` means every app or every form of the app."""

    app_key = fields.String(load_default="*")
    form_key = fields.String(load_default="*")
    actions = fields.List(
        fields.String(validate=validate.OneOf(ACTIONS)),
        required=True,
        validate=validate.Length(min=1),
    )
    scope = fields.String(load_default="all", validate=validate.OneOf(["own", "group", "all"]))
    field_rules = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=validate.OneOf(["read_only", "hidden"])),
        load_default=dict,
        metadata={
            "description": "fields of the form (name the form) its holders may not write "
            '(read_only) or may neither read nor write (hidden), e.g. {"csat": "read_only"}'
        },
    )


@blp.route("")
class Roles(MethodView):
    """All roles."""

    @blp.response(200, RoleSchema(many=True))
    def get(self) -> list[Role]:
        """List roles (administrators)."""
        require_admin(require_actor(), "list roles")
        with platform().unit_of_work(write=False) as uow:
            return roles.list_roles(uow)

    @blp.arguments(RoleCreateSchema)
    @blp.response(201, RoleSchema, headers=LOCATION)
    def post(self, body: dict[str, Any]) -> tuple[Role, dict[str, str]]:
        """Create a role."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            role = roles.create_role(uow, actor, **body)
            uow.commit()
        return created(role, "roles.RoleItem", role_id=role.id)


@blp.route("/<int:role_id>")
class RoleItem(MethodView):
    """One role."""

    @blp.response(200, RoleSchema)
    def get(self, role_id: int) -> Role:
        """Read a role."""
        require_admin(require_actor(), "read roles")
        with platform().unit_of_work(write=False) as uow:
            return roles.get_role(uow, role_id)

    @blp.arguments(RoleUpdateSchema)
    @blp.response(200, RoleSchema)
    def patch(self, body: dict[str, Any], role_id: int) -> Role:
        """Change a role."""
        actor = require_actor()
        lock_version = body.pop("lock_version")
        with platform().unit_of_work() as uow:
            role = roles.update_role(uow, actor, role_id, body, lock_version=lock_version)
            uow.commit()
        return role

    @blp.arguments(LockArgs, location="query")
    @blp.response(204)
    def delete(self, args: dict[str, Any], role_id: int) -> None:
        """Delete a role with its grants and assignments (not system roles)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            roles.delete_role(uow, actor, role_id, lock_version=args["lock_version"])
            uow.commit()


@blp.route("/<int:role_id>/grants")
class RoleGrants(MethodView):
    """Grants of a role."""

    @blp.response(200, GrantSchema(many=True))
    def get(self, role_id: int) -> list[Grant]:
        """List grants."""
        require_admin(require_actor(), "read grants")
        with platform().unit_of_work(write=False) as uow:
            return roles.role_grants(uow, role_id)

    @blp.arguments(GrantCreateSchema)
    @blp.response(201, GrantSchema)
    def post(self, body: dict[str, Any], role_id: int) -> Grant:
        """Add a grant."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            grant = roles.add_grant(uow, actor, role_id, **body)
            uow.commit()
        return grant


@blp.route("/<int:role_id>/grants/<int:grant_id>")
class RoleGrant(MethodView):
    """One grant."""

    @blp.response(204)
    def delete(self, role_id: int, grant_id: int) -> None:
        """Remove a grant."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            roles.remove_grant(uow, actor, role_id, grant_id)
            uow.commit()


@blp.route("/<int:role_id>/members")
class RoleMembers(MethodView):
    """Holders of a role."""

    @blp.response(200, UserSchema(many=True))
    def get(self, role_id: int) -> list[User]:
        """List the users holding the role."""
        require_admin(require_actor(), "read role members")
        with platform().unit_of_work(write=False) as uow:
            return users.role_members(uow, role_id)


@blp.route("/<int:role_id>/members/<int:user_id>")
class RoleMember(MethodView):
    """One role assignment."""

    @blp.response(204)
    def put(self, role_id: int, user_id: int) -> None:
        """Give the role (idempotent)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            users.assign_role(uow, actor, role_id=role_id, user_id=user_id)
            uow.commit()

    @blp.response(204)
    def delete(self, role_id: int, user_id: int) -> None:
        """Take the role away (the last administrator keeps it)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            users.unassign_role(uow, actor, role_id=role_id, user_id=user_id)
            uow.commit()
