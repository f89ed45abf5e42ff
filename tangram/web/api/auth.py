"""Sign in and out, the current user, API tokens."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform.identity import auth
from tangram.platform.kernel.models import ApiToken, User
from tangram.web import security
from tangram.web.api.common import StrictSchema
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, public, require_actor

PREFIX = ""
blp = Blueprint("auth", __name__, description="Sign-in, sessions, API tokens and the current user")


class LoginSchema(StrictSchema):
    """Credentials."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class MeSchema(Schema):
    """The signed-in user."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    email = fields.String(allow_none=True)
    locale = fields.String(required=True)
    is_admin = fields.Boolean(required=True)
    roles = fields.List(fields.String(), required=True)
    group_ids = fields.List(fields.Integer(), required=True)
    csrf_token = fields.String(allow_none=True, metadata={"description": "send as X-CSRF-Token"})
    via = fields.String(required=True)


class PasswordChangeSchema(StrictSchema):
    """Change one's own password."""

    current_password = fields.String(required=True)
    new_password = fields.String(required=True)


class TokenCreateSchema(StrictSchema):
    """A new API token."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)


class TokenSchema(Schema):
    """An API token (never its secret, except once at creation)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    """A token just created: ``token`` is shown this once."""

    token = fields.String(required=True)


def _me(user: User, via: str) -> dict[str, Any]:
    with platform().unit_of_work(write=False) as uow:
        from tangram.platform.identity.perms import load_actor

        fresh = uow.session.get(User, user.id)
        assert fresh is not None
        actor = load_actor(uow.session, fresh, via=via)
        return {
            "id": fresh.id,
            "username": fresh.username,
            "display_name": fresh.display_name,
            "email": fresh.email,
            "locale": fresh.locale,
            "is_admin": actor.is_admin,
            "roles": sorted(actor.roles),
            "group_ids": sorted(actor.group_ids),
            "csrf_token": security.csrf_token() if via == "session" else None,
            "via": via,
        }


@blp.route("/auth/login")
@public
class Login(MethodView):
    """Sign in with a user name and password (sets the session cookie)."""

    @blp.arguments(LoginSchema)
    @blp.response(200, MeSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Sign in; wrong credentials get one generic 401, repeated failures a 429."""
        p = platform()
        with p.unit_of_work() as uow:
            user = auth.login(
                uow,
                p.settings,
                username=body["username"],
                password=body["password"],
                remote_addr=security.remote_addr(),
            )
        security.start_session(user)
        return _me(user, "session")


@blp.route("/auth/logout")
@public
class Logout(MethodView):
    """End the cookie session."""

    @blp.response(204)
    def post(self) -> None:
        """Sign out (harmless when not signed in)."""
        actor = security.current_actor()
        if actor is not None and actor.via == "session":
            with platform().unit_of_work() as uow:
                uow.audit(actor.user_id, actor.label, "auth.logout", "user", actor.user_id or 0)
                uow.commit()
        security.end_session()


@blp.route("/me")
class Me(MethodView):
    """The signed-in user."""

    @blp.response(200, MeSchema)
    def get(self) -> dict[str, Any]:
        """Who am I, with my roles, groups and (for cookie sessions) the CSRF token."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            user = uow.session.get(User, actor.user_id)
        assert user is not None
        return _me(user, actor.via)


@blp.route("/me/password")
class MyPassword(MethodView):
    """Change one's own password."""

    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def put(self, body: dict[str, Any]) -> None:
        """Change the password; other sessions of the account end, this one stays."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            user = auth.change_password(
                uow, actor, current=body["current_password"], new=body["new_password"]
            )
            uow.commit()
        security.refresh_session_epoch(user)


@blp.route("/auth/tokens")
class Tokens(MethodView):
    """The caller's API tokens."""

    @blp.response(200, TokenSchema(many=True))
    def get(self) -> list[ApiToken]:
        """List my tokens (newest first; secrets are never shown again)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return auth.list_tokens(uow, actor)

    @blp.arguments(TokenCreateSchema)
    @blp.response(201, IssuedTokenSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a token; the response carries the secret this one time."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            issued = auth.create_token(
                uow, actor, name=body["name"], expires_at=body.get("expires_at")
            )
            uow.commit()
        token = issued.token
        return {
            "id": token.id,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at,
            "token": issued.secret,
        }


@blp.route("/auth/tokens/<int:token_id>")
class TokenItem(MethodView):
    """One API token."""

    @blp.response(204)
    def delete(self, token_id: int) -> None:
        """Revoke a token (it stops working at once)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            auth.revoke_token(uow, actor, token_id)
            uow.commit()
