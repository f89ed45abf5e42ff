"""Users: list, create, read, update (administrators; users may edit their own profile); their
sessions and sign-in locks (administrators)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.identity import lockout, sessions, users
from tangram.platform.identity.perms import require_admin
from tangram.platform.kernel.models import User
from tangram.web.api.auth import EndedSchema, SessionSchema, session_views
from tangram.web.api.common import (
    LOCATION,
    LockedSchema,
    PageArgs,
    StrictSchema,
    created,
    next_after,
)
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/users"
blp = Blueprint("users", __name__, description="User accounts")


class UserSchema(Schema):
    """A user account (never its password hash)."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    email = fields.String(allow_none=True)
    locale = fields.String(required=True)
    skills = fields.List(fields.String(), required=True)
    is_active = fields.Boolean(required=True)
    lock_version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    last_login_at = fields.DateTime(allow_none=True)


class UserPageSchema(Schema):
    """One page of users."""

    items = fields.List(fields.Nested(UserSchema), required=True)
    next_after = fields.Integer(allow_none=True)


class UserQuerySchema(PageArgs):
    """Filters of the user list."""

    q = fields.String(load_default=None, validate=validate.Length(max=100))


class UserCreateSchema(StrictSchema):
    """A new account."""

    username = fields.String(required=True, validate=validate.Length(min=2, max=64))
    display_name = fields.String(load_default=None, validate=validate.Length(max=200))
    email = fields.Email(load_default=None, allow_none=True)
    password = fields.String(required=True, validate=validate.Length(max=1024))
    locale = fields.String(load_default="zh-CN", validate=validate.OneOf(users.LOCALES))
    roles = fields.List(fields.String(), load_default=list)


class UserUpdateSchema(LockedSchema):
    """Changes to an account; only the fields sent change."""

    display_name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.Email(allow_none=True)
    locale = fields.String(validate=validate.OneOf(users.LOCALES))
    is_active = fields.Boolean()
    password = fields.String(validate=validate.Length(max=1024))
    skills = fields.List(
        fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,62}$")),
        validate=validate.Length(max=50),
        metadata={"description": "skill tags for assignment by skill (administrators set them)"},
    )


class LoginLockSchema(Schema):
    """The lock on a user name after failed sign-ins from browsers it never signed in from."""

    locked_until = fields.DateTime(allow_none=True, metadata={"description": "null: not locked"})
    failures = fields.Integer(required=True, metadata={"description": "in the current window"})
    lockouts = fields.Integer(
        required=True, metadata={"description": "locks in a row (each twice as long)"}
    )


@blp.route("")
class Users(MethodView):
    """All users."""

    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List users (administrators), keyset-paged by id."""
        actor = require_actor()
        require_admin(actor, "list users")
        with platform().unit_of_work(write=False) as uow:
            items = users.list_users(uow, after=args["after"], limit=args["limit"], q=args["q"])
        return {"items": items, "next_after": next_after(list(items), args["limit"])}

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema, headers=LOCATION)
    def post(self, body: dict[str, Any]) -> tuple[User, dict[str, str]]:
        """Create an account (administrators)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            user = users.create_user(uow, actor, **body)
            uow.commit()
        return created(user, "users.UserItem", user_id=user.id)


@blp.route("/<int:user_id>")
class UserItem(MethodView):
    """One user."""

    @blp.response(200, UserSchema)
    def get(self, user_id: int) -> User:
        """Read an account (administrators, or oneself)."""
        actor = require_actor()
        if actor.user_id != user_id:
            require_admin(actor, "read other users")
        with platform().unit_of_work(write=False) as uow:
            return users.get_user(uow, user_id)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, body: dict[str, Any], user_id: int) -> User:
        """Change an account; a stale ``lock_version`` gets 409 with the current version."""
        actor = require_actor()
        lock_version = body.pop("lock_version")
        with platform().unit_of_work() as uow:
            user = users.update_user(uow, actor, user_id, body, lock_version=lock_version)
            uow.commit()
        return user


class MembershipsSchema(Schema):
    """The roles a user holds and the groups they belong to, by id."""

    roles = fields.List(fields.Integer(), required=True)
    groups = fields.List(fields.Integer(), required=True)


@blp.route("/<int:user_id>/memberships")
class UserMemberships(MethodView):
    """A user's roles and groups (change them through the roles' and groups' members)."""

    @blp.response(200, MembershipsSchema)
    def get(self, user_id: int) -> dict[str, list[int]]:
        """The ids of the user's roles and groups (administrators)."""
        require_admin(require_actor(), "read other users' roles and groups")
        with platform().unit_of_work(write=False) as uow:
            held, belongs = users.memberships(uow, user_id)
        return {"roles": held, "groups": belongs}


@blp.route("/<int:user_id>/sessions")
class UserSessions(MethodView):
    """A user's live sign-in sessions (administrators)."""

    @blp.response(200, SessionSchema(many=True))
    def get(self, user_id: int) -> list[dict[str, Any]]:
        """List a user's live sessions, most recently used first."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            rows = sessions.list_sessions(uow, actor, user_id)
        return session_views(rows, actor)

    @blp.response(200, EndedSchema)
    def delete(self, user_id: int) -> dict[str, Any]:
        """End all of a user's sessions (an administrator's own current one stays)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            count = sessions.end_sessions(uow, actor, user_id)
            uow.commit()
        return {"ended": count}


@blp.route("/<int:user_id>/sessions/<int:session_id>")
class UserSessionItem(MethodView):
    """One of a user's sessions (administrators)."""

    @blp.response(204)
    def delete(self, user_id: int, session_id: int) -> None:
        """End one of a user's sessions."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            sessions.end_session(uow, actor, user_id, session_id)
            uow.commit()


@blp.route("/<int:user_id>/login-lock")
class UserLoginLock(MethodView):
    """The sign-in lock on a user's name (administrators)."""

    @blp.response(200, LoginLockSchema)
    def get(self, user_id: int) -> lockout.LockStatus:
        """Whether the name is locked after failed sign-ins from everywhere, and until when."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return lockout.lock_status(uow, actor, user_id)

    @blp.response(204)
    def delete(self, user_id: int) -> None:
        """Lift the locks: the name's, its known browsers' and the failures counted per address."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            lockout.clear_lock(uow, actor, user_id)
            uow.commit()
