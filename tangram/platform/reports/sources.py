"""What a dataset reads: its form and the forms its references point to, with their projection
tables. Reports, KPI cards, dashboards and rollups all start here."""

from __future__ import annotations

from collections.abc import Mapping

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.forms import FieldType
from tangram.engines.reports import Source
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.errors import NotFound
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
    """The app's id (once per unit of work)."""
    ids = uow.memo.report_app_ids
    if app_key not in ids:
        ids[app_key] = app_ref(uow, Actor.system("reports"), app_key).id
    return ids[app_key]


def tables_of(sources: Mapping[str, Source], form_key: str) -> projections.Tables:
    """The projection tables of the dataset's own form."""
    main = sources[form_key]
    return projections.Tables(main.form.projection, main.main, main.children)
