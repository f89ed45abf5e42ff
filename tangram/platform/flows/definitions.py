"""Published flows compiled against their form, the app's forms and flows: once per version in
the platform, looked up once per unit of work; and the check a flow must pass to be published.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from tangram.engines.common import DefinitionError, Diagnostic
from tangram.engines.flows import (
    Process,
    compile_process,
)
from tangram.engines.forms import FieldType
from tangram.platform import metadata
from tangram.platform.kernel.errors import (
    NotFound,
    ValidationFailed,
)
from tangram.platform.kernel.models import (
    App,
    Definition,
)
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata import compiled


def _published_keys(uow: UnitOfWork, app_key: str, kind: str) -> frozenset[str]:
    return frozenset(
        uow.session.scalars(
            select(Definition.key)
            .join(App, App.id == Definition.app_id)
            .where(
                App.key == app_key,
                Definition.kind == kind,
                Definition.published_version.is_not(None),
            )
        )
    )


def compile_flow(uow: UnitOfWork, app_key: str, body: Mapping[str, Any], version: int) -> Process:
    form_key = str(body.get("form"))
    try:
        _, form = compiled.form(uow, app_key, form_key)
    except NotFound:
        raise DefinitionError(
            [Diagnostic("/form", "flow.form", f"form {form_key!r} is not published")]
        ) from None
    subtables = {
        f.key: frozenset(sub.key for sub in f.fields)
        for f in form.fields
        if f.type is FieldType.SUB_TABLE
    }
    return compile_process(
        body,
        fields=frozenset(form.by_key),
        subtables=subtables,
        flows=_published_keys(uow, app_key, "flow") | {str(body.get("key"))},
        forms=_published_keys(uow, app_key, "form"),
        version=version,
    )


def check(uow: UnitOfWork, app_key: str, _kind: str, _key: str, body: Mapping[str, Any]) -> None:
    """Refuse a flow that does not compile, with every problem's path (node ids in messages)."""
    try:
        compile_flow(uow, app_key, body, 0)
    except DefinitionError as exc:
        raise ValidationFailed.from_diagnostics(
            f"The flow cannot be published: {len(exc.diagnostics)} problem(s).",
            exc.diagnostics,
            code="definition.invalid",
        ) from None


def process(
    uow: UnitOfWork, app_key: str, flow_key: str, version: int | None = None
) -> tuple[int, Process]:
    """A published flow (newest, or ``version``) compiled once per version (and looked up once
    per unit of work)."""
    memo, pinned = uow.memo.processes, uow.caches.pinned_processes
    if version is not None:
        # a published version never changes: an instance pinned to it needs no lookup
        known = pinned.get((app_key, flow_key, version))
        if known is not None:
            return version, known
    found = memo.get((app_key, flow_key, version))
    if found is None:
        found = memo[(app_key, flow_key, version)] = load_process(uow, app_key, flow_key, version)
        pinned.put((app_key, flow_key, found[0]), found[1])
    return found


def load_process(
    uow: UnitOfWork, app_key: str, flow_key: str, version: int | None
) -> tuple[int, Process]:
    row_id, number, digest = metadata.published_ref(uow, app_key, "flow", flow_key, version)
    cache = uow.caches.processes
    key = (app_key, flow_key, number, digest)
    found = cache.get(key)
    if found is None:
        body = metadata.version_body(uow, row_id)
        found = cache.put(key, compile_flow(uow, app_key, body, number))
    return number, found
