"""Publishing a definition: the draft becomes the next immutable version.

The store runs the checks the areas registered for the definition's kind (rules, flows, reports
and dashboards check theirs; a form is compiled here), stores the version, starts the app's
caches afresh and sends ``definition.published``, which projections and rule schedules follow.
The store imports none of the areas that interpret definitions.
"""

from __future__ import annotations

from typing import Any

from tangram.platform.identity.perms import Actor, require_design
from tangram.platform.kernel.errors import Conflict, check_lock
from tangram.platform.kernel.events import Event
from tangram.platform.kernel.models import DefinitionVersion
from tangram.platform.kernel.uow import UnitOfWork
from tangram.platform.metadata.apps import retag
from tangram.platform.metadata.store import latest_version, load_definition, object_id
from tangram.platform.metadata.verdict import judge, refuse_problems

#: The event a publication sends (``subject`` is the kind; the payload has ``app_id``, ``key``,
#: ``version`` and ``body``): projections, rule schedules and caches follow it.
PUBLISHED = "definition.published"


def publish(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    kind: str,
    key: str,
    *,
    note: str = "",
    lock_version: int | None = None,
) -> DefinitionVersion:
    """Publish the draft as the next immutable version; an unchanged draft is refused."""
    return publish_advised(uow, actor, app_key, kind, key, note=note, lock_version=lock_version)[0]


def publish_advised(
    uow: UnitOfWork,
    actor: Actor,
    app_key: str,
    kind: str,
    key: str,
    *,
    note: str = "",
    lock_version: int | None = None,
) -> tuple[DefinitionVersion, list[dict[str, Any]]]:
    """:func:`publish`, with the warnings the areas' advisers give about the new version (valid,
    but likely to go wrong at run time: an assignee who cannot act, a rule action that fails on
    the stored records). Warnings never refuse; the audit entry lists their codes."""
    definition = load_definition(uow, actor, app_key, kind, key)
    require_design(actor, app_key)
    check_lock(definition, lock_version)
    document = dict(definition.draft)
    latest = latest_version(uow, definition)
    # equal in meaning and in layout: a layout-only change may be published as a version
    if (
        latest is not None
        and latest.checksum == definition.draft_checksum
        and latest.body == document
    ):
        raise Conflict(
            f"The draft of {kind} {key!r} equals version {latest.version}: there is nothing to "
            "publish.",
            code="definition.unchanged",
            current_version=latest.version,
        )
    verdict = judge(
        uow, app_key, kind, key, document, advise=True
    )  # the meta-schema may have tightened
    refuse_problems(verdict, kind)
    warnings = verdict.warnings
    number = (definition.published_version or 0) + 1
    version = DefinitionVersion(
        definition_id=definition.id,
        version=number,
        body=document,
        checksum=definition.draft_checksum,
        note=note,
        author_id=actor.user_id,
        created_at=uow.now,
    )
    uow.session.add(version)
    definition.published_version = number
    retag(uow, definition.app_id, app_key)  # caches of its published definitions start afresh
    definition.updated_at = uow.now
    uow.flush()
    uow.publish(
        Event(
            PUBLISHED,
            app_key,
            kind,
            definition.id,
            actor.user_id,
            {"app_id": definition.app_id, "key": key, "version": number, "body": document},
        )
    )
    uow.audit(
        actor.user_id,
        actor.label,
        "definition.published",
        "definition",
        object_id(app_key, kind, key),
        {"version": number, "checksum": version.checksum, "note": note}
        | ({"warnings": [w["code"] for w in warnings]} if warnings else {}),
    )
    return version, warnings
