"""What a dataset reads: its form and the forms its references point to, with their projection
tables, and what a viewer may read of them. Reports, KPI cards, dashboards and rollups all start
here.

Reading through a dataset is reading records: a viewer needs the read grant on every form the
dataset touches (its own form and each form it joins through a ``reference.field`` dimension,
measure or filter), exactly as the record list of each of those forms would ask, or the report,
KPI card, drill-down or export answers 403 ``permission.record`` and runs nothing. Rows of the
dataset's form are those in the viewer's read scope; a referenced record outside their scope on
its form is joined as no record at all (its fields read as empty), as a record export shows the
bare id of a reference the viewer may not read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.forms import FieldType
from tangram.engines.reports import JoinLimit, Source
from tangram.platform import records
from tangram.platform.identity.perms import Action, Actor, can_read_app, hidden_fields
from tangram.platform.kernel.errors import NotFound, PermissionDenied
from tangram.platform.kernel.models import Scope
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import app_ref, compiled
from tangram.platform.records import projections


def sources_of(uow: UnitOfWork, app_key: str, form_key: str) -> dict[str, Source]:
    """The dataset's form and the forms its references point to, with their projection tables."""
    try:
        _, form = compiled.form(uow, app_key, form_key)
    except NotFound:
        raise DefinitionError(
            [Diagnostic("/form", "report.form", f"form {form_key!r} is not published")]
        ) from None
    app_id = app_id_of(uow, app_key)
    wanted = [form_key] + [
        f.reference_form
        for f in form.fields
        if f.type is FieldType.REFERENCE and f.reference_form is not None
    ]
    out = {}
    for key in dict.fromkeys(wanted):
        _, found = compiled.form(uow, app_key, key)
        t = projections.ready(uow, app_id, key, found)
        out[key] = Source(found, t.main, t.children)
    return out


def app_id_of(uow: UnitOfWork, app_key: str) -> int:
    """The app's id (read once per unit of work)."""
    return app_ref(uow, Actor.system("reports"), app_key).id


def tables_of(sources: Mapping[str, Source], form_key: str) -> projections.Tables:
    """The projection tables of the dataset's own form."""
    main = sources[form_key]
    return projections.Tables(main.form.projection, main.main, main.children)


def require_app(uow: UnitOfWork, actor: Actor, app_key: str) -> int:
    """The app's id when the actor may see the app; 404 ``app.not_found`` otherwise, as the record
    API answers for an app the actor holds no grant in (before any report is looked up)."""
    if not can_read_app(actor, app_key):
        raise NotFound(f"App {app_key!r} does not exist.", code="app.not_found")
    return app_id_of(uow, app_key)


def scope_key(actor: Actor, scope: Scope) -> tuple[Any, ...]:
    """What a viewer's read scope depends on: nobody else's, for own and group scopes."""
    if scope is Scope.OWN:
        return (scope.value, actor.user_id)
    if scope is Scope.GROUP:
        return (scope.value, actor.user_id, tuple(sorted(actor.group_ids)))
    return (scope.value,)


@dataclass(frozen=True)
class Reach:
    """A viewer's read scope on each form a dataset touches, its own form first."""

    scopes: tuple[tuple[str, Scope], ...]
    #: The fields of the dataset's own form the viewer may not read (nor filter on).
    hidden: frozenset[str] = frozenset()

    @property
    def scope(self) -> Scope:
        """The scope on the dataset's own form (which of its rows count)."""
        return self.scopes[0][1]

    @property
    def whole(self) -> bool:
        """Whether the viewer reads every record of every form touched (rollups may answer)."""
        return all(scope is Scope.ALL for _, scope in self.scopes)

    def key(self, actor: Actor) -> tuple[Any, ...]:
        """What results computed for this reach depend on (part of cache keys)."""
        return tuple((form, *scope_key(actor, scope)) for form, scope in self.scopes)

    def joined(self, uow: UnitOfWork, actor: Actor) -> JoinLimit | None:
        """The viewer's row-level rule on each referenced form (``None`` when they read all)."""
        if self.whole:
            return None
        scopes = dict(self.scopes)

        def limit(form_key: str, table: FromClause) -> list[ColumnElement[bool]]:
            return records.visible(uow, actor, table, scopes[form_key])

        return limit


def reach(
    actor: Actor,
    app_key: str,
    forms: Sequence[str],
    reads: Iterable[tuple[str, str]] = (),
) -> Reach:
    """The actor's read scope on each of ``forms``; 403 ``permission.record`` naming the first
    form they may not read, 403 ``permission.field`` naming the fields of ``reads`` (form, field)
    their roles hide from them (nothing has run yet)."""
    scopes = tuple(
        (form, records.require_scope(actor, Action.READ, app_key, form))
        for form in dict.fromkeys(forms)
    )
    by_form = {form: hidden_fields(actor, app_key, form) for form, _ in scopes}
    hidden = sorted((form, key) for form, key in reads if key in by_form.get(form, frozenset()))
    if hidden:
        raise PermissionDenied(
            "This report reads fields your roles hide from you: "
            + ", ".join(f"{form}.{key}" for form, key in hidden)
            + ".",
            code="permission.field",
        )
    return Reach(scopes, by_form[forms[0]] if forms else frozenset())
