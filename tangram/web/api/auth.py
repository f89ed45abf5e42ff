"""Sign in and out, the current user and their sessions, API tokens."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform import metadata
from tangram.platform.identity import auth, sessions
from tangram.platform.identity.perms import Actor, load_actor
from tangram.platform.kernel.models import ApiToken, User, UserSession
from tangram.web import devices, security
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
    design_apps = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "keys of the apps whose definitions the user may change"},
    )


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


class SessionSchema(Schema):
    """A live sign-in session (never its secret)."""

    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True, metadata={"description": "absolute end"})
    idle_expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "when it times out unless used before"}
    )
    remote_addr = fields.String(required=True, metadata={"description": "where it signed in"})
    user_agent = fields.String(required=True)
    current = fields.Boolean(required=True, metadata={"description": "the caller's own session"})


class EndedSchema(Schema):
    """How many sessions ended."""

    ended = fields.Integer(required=True)


def session_views(rows: list[UserSession], actor: Actor) -> list[dict[str, Any]]:
    """Sessions as the API shows them (``current`` marks the caller's)."""
    settings = platform().settings
    return [
        {
            "id": row.id,
            "created_at": row.created_at,
            "last_seen_at": row.last_seen_at,
            "expires_at": row.expires_at,
            "idle_expires_at": sessions.idle_expires_at(settings, row),
            "remote_addr": row.remote_addr,
            "user_agent": row.user_agent,
            "current": row.id == actor.session_id,
        }
        for row in rows
    ]


def _me(user_id: int, via: str, actor: Actor | None = None) -> dict[str, Any]:
    """The signed-in user's profile, with the request's ``actor`` (authenticated as the request
    began) or, just signed in, the actor as the user stands now."""
    with platform().unit_of_work(write=False) as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        actor = actor or load_actor(uow.session, user, via=via)
        return {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "email": user.email,
            "locale": user.locale,
            "is_admin": actor.is_admin,
            "roles": sorted(actor.roles),
            "group_ids": sorted(actor.group_ids),
            "csrf_token": security.csrf_token() if via == "session" else None,
            "via": via,
            "design_apps": metadata.design_apps(uow, actor),
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
        addr = security.remote_addr()
        with p.unit_of_work() as uow:
            user = auth.login(
                uow,
                p.settings,
                username=body["username"],
                password=body["password"],
                remote_addr=addr,
                device=devices.known_device(body["username"]),
            )
            opened = sessions.open_session(
                uow,
                user,
                remote_addr=addr,
                user_agent=request.user_agent.string,
                replacing=security.session_secret(),
            )
            uow.commit()
        security.start_session(opened.secret)
        devices.remember(user.username, secure=p.settings.secure_cookies)
        return _me(user.id, "session")


@blp.route("/auth/logout")
@public
class Logout(MethodView):
    """End the cookie session."""

    @blp.response(204)
    def post(self) -> None:
        """Sign out: the session ends on the server, so the cookie is worthless from now on
        (harmless when not signed in)."""
        secret = security.session_secret()
        if secret is not None:
            with platform().unit_of_work() as uow:
                sessions.sign_out(uow, secret)
                uow.commit()
        security.end_session()


@blp.route("/me")
class Me(MethodView):
    """The signed-in user."""

    @blp.response(200, MeSchema)
    def get(self) -> dict[str, Any]:
        """Who am I, with my roles, groups and (for cookie sessions) the CSRF token."""
        actor = require_actor()
        assert actor.user_id is not None  # a session or a token: a user
        return _me(actor.user_id, actor.via, actor)


@blp.route("/me/password")
class MyPassword(MethodView):
    """Change one's own password."""

    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def put(self, body: dict[str, Any]) -> None:
        """Change the password; the account's other sessions end, this one stays."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            auth.change_password(
                uow, actor, current=body["current_password"], new=body["new_password"]
            )
            uow.commit()


@blp.route("/me/sessions")
class MySessions(MethodView):
    """The caller's live sign-in sessions."""

    @blp.response(200, SessionSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """List my live sessions, most recently used first (``current`` marks this one)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            rows = sessions.list_sessions(uow, actor, actor.user_id or 0)
        return session_views(rows, actor)

    @blp.response(200, EndedSchema)
    def delete(self) -> dict[str, Any]:
        """Sign out everywhere else: end all my sessions but this one."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            count = sessions.end_sessions(uow, actor, actor.user_id or 0)
            uow.commit()
        return {"ended": count}


@blp.route("/me/sessions/<int:session_id>")
class MySession(MethodView):
    """One of the caller's sessions."""

    @blp.response(204)
    def delete(self, session_id: int) -> None:
        """End one of my sessions (this one too: that signs out)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            sessions.end_session(uow, actor, actor.user_id or 0, session_id)
            uow.commit()
        if session_id == actor.session_id:
            security.end_session()


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
        """Create a token from a live browser session (not with another token); the response
        carries the secret this one time."""
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
