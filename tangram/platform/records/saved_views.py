"""Saved views of a form's record list: a name for a set of filters and a sort.

A view belongs to the user who saved it; an administrator may share one with everyone who can
read the form. Filters are kept as the list endpoint takes them (``status__in`` → ``"new,assigned"``)
and checked against the form when saved, so a view that opens is a view that works (a later form
version may still drop a field: the list then answers 422 naming it, like any other bad filter).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select

from tangram.platform.identity.perms import Action, Actor, scope_for
from tangram.platform.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from tangram.platform.kernel.models import SavedView
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import app_ref, compiled
from tangram.platform.records import listing, projections
from tangram.platform.records.listing import Filter, SortKey
from tangram.platform.records.service import require_scope

#: Views one user may keep per form.
MAX_VIEWS = 50
#: Filters one view may hold.
MAX_FILTERS = 30
MAX_NAME = 100
MAX_VALUE = 2000
#: Query parameters of the list endpoint that are not filters.
NOT_FILTERS = frozenset({"cursor", "limit", "sort", "count", "lang", "format"})


def _check(
    uow: UnitOfWork,
    app_key: str,
    app_id: int,
    form_key: str,
    *,
    name: str,
    filters: Mapping[str, Any],
    sort: str,
) -> None:
    """Every problem of a view at once: its name, its filters (as the list would read them) and
    its sort, checked against the form's projection without running a query."""
    problems: list[dict[str, str]] = []
    if not name.strip():
        problems.append({"path": "name", "message": "a view needs a name"})
    elif len(name) > MAX_NAME:
        problems.append({"path": "name", "message": f"at most {MAX_NAME} characters"})
    if len(filters) > MAX_FILTERS:
        problems.append({"path": "filters", "message": f"at most {MAX_FILTERS} filters"})
    parsed: list[Filter] = []
    for param, value in filters.items():
        path = f"filters/{param}"
        if param in NOT_FILTERS:
            problems.append({"path": path, "message": f"{param!r} is not a filter"})
        elif not isinstance(value, str):
            problems.append({"path": path, "message": "a filter's value is text, as in the URL"})
        elif len(value) > MAX_VALUE:
            problems.append({"path": path, "message": f"at most {MAX_VALUE} characters"})
        else:
            parsed.append(Filter.parse(param, [value]))
    if len(sort) > 300:
        problems.append({"path": "sort", "message": "at most 300 characters"})
    _, form = compiled.form(uow, app_key, form_key)
    t = projections.ready(uow, app_id, form_key, form)
    for check in (
        lambda: listing.conditions(t, parsed, time_zone=uow.settings.time_zone),
        lambda: listing.ordering(t, SortKey.parse(sort)),
    ):
        try:
            check()
        except ValidationFailed as exc:
            problems.extend(
                {**e, "path": e["path"] if e["path"] == "sort" else f"filters/{e['path']}"}
                for e in exc.errors
            )
    if problems:
        raise ValidationFailed("The view is not valid.", code="view.invalid", errors=problems)


def list_views(uow: UnitOfWork, actor: Actor, app_key: str, form_key: str) -> list[SavedView]:
    """The actor's own views of the form, then the shared ones, each by name."""
    app = app_ref(uow, actor, app_key)
    require_scope(actor, Action.READ, app_key, form_key)
    compiled.form(uow, app_key, form_key)  # a form that is not published has no list
    rows = uow.session.scalars(
        select(SavedView)
        .where(
            SavedView.app_id == app.id,
            SavedView.form_key == form_key,
            or_(SavedView.user_id == actor.user_id, SavedView.shared.is_(True)),
        )
        .order_by(SavedView.name, SavedView.id)
    ).all()
    return sorted(rows, key=lambda v: v.user_id != actor.user_id)  # stable: by name within


def save_view(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    form_key: str,
    *,
    name: str,
    filters: Mapping[str, Any],
    sort: str = "",
    shared: bool = False,
) -> SavedView:
    """Save the actor's view under ``name``, replacing their view of that name if any.
    Only administrators share views."""
    app = app_ref(uow, actor, app_key)
    require_scope(actor, Action.READ, app_key, form_key)
    if actor.user_id is None:
        raise PermissionDenied("Views are saved for a signed-in user.", code="view.no_user")
    if shared and not actor.is_admin:
        raise PermissionDenied("Only an administrator shares a view.", code="view.share_denied")
    name = name.strip()
    _check(uow, app_key, app.id, form_key, name=name, filters=filters, sort=sort)
    view = uow.session.scalar(
        select(SavedView).where(
            SavedView.user_id == actor.user_id,
            SavedView.app_id == app.id,
            SavedView.form_key == form_key,
            SavedView.name == name,
        )
    )
    now = uow.now
    if view is None:
        count = uow.session.scalar(
            select(func.count()).where(
                SavedView.user_id == actor.user_id,
                SavedView.app_id == app.id,
                SavedView.form_key == form_key,
            )
        )
        if (count or 0) >= MAX_VIEWS:
            raise ValidationFailed(
                f"At most {MAX_VIEWS} views per form: delete one first.",
                code="view.too_many",
                errors=[{"path": "name", "message": f"at most {MAX_VIEWS} views per form"}],
            )
        view = SavedView(
            user_id=actor.user_id,
            app_id=app.id,
            form_key=form_key,
            name=name,
            created_at=now,
        )
        uow.session.add(view)
    view.filters = dict(filters)
    view.sort = sort
    view.shared = shared
    view.updated_at = now
    uow.session.flush()
    return view


def delete_view(uow: UnitOfWork, actor: Actor, app_key: str, form_key: str, view_id: int) -> None:
    """Delete one of the actor's views (an administrator may delete a shared one too).

    Views the actor does not see do not exist for them (404 ``view.not_found``): another user's
    own view, and a shared view of a form they may not read. A shared view they see but did not
    save answers 403 unless they are an administrator."""
    app = app_ref(uow, actor, app_key)
    view = uow.session.get(SavedView, view_id)
    if (
        view is None
        or view.app_id != app.id
        or view.form_key != form_key
        or (
            view.user_id != actor.user_id
            and not (view.shared and scope_for(actor, Action.READ, app_key, form_key))
        )
    ):
        raise NotFound(f"View {view_id} does not exist.", code="view.not_found")
    if view.user_id != actor.user_id and not actor.is_admin:
        raise PermissionDenied(
            "A shared view is deleted by an administrator.", code="view.delete_denied"
        )
    uow.session.delete(view)
    uow.session.flush()
