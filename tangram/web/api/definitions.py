"""Definitions of an app (forms, rules, flows, reports, dashboards, calendars, KPIs): drafts,
publish, archive and restore, versions, diff."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate

from tangram.platform import design, flows, metadata
from tangram.platform.design import access
from tangram.platform.kernel.models import DefinitionVersion
from tangram.platform.metadata import DefinitionView
from tangram.platform.records.listing import Filter
from tangram.platform.rules import probe, whatif
from tangram.web.api.common import LOCATION, StrictSchema, created
from tangram.web.decoding import ID_MAX, Blueprint
from tangram.web.security import platform, require_actor

PREFIX = "/apps"
blp = Blueprint(
    "definitions", __name__, description="Versioned definitions: drafts, publish, versions, diff"
)

#: URL segment → definition kind.
KINDS = {
    "forms": "form",
    "rules": "rule",
    "flows": "flow",
    "reports": "report",
    "dashboards": "dashboard",
    "calendars": "calendar",
    "kpis": "kpi",
}
KIND_SEGMENT = "<any(forms, rules, flows, reports, dashboards, calendars, kpis):kinds>"


class DefinitionSchema(Schema):
    """A definition's draft and publication status."""

    key = fields.String(required=True)
    kind = fields.String(required=True)
    body = fields.Dict(required=True, metadata={"description": "the draft"})
    draft_checksum = fields.String(required=True)
    published_version = fields.Integer(allow_none=True, required=True)
    dirty = fields.Boolean(
        required=True, metadata={"description": "the draft differs from the newest version"}
    )
    lock_version = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)
    archived_at = fields.DateTime(
        allow_none=True,
        required=True,
        metadata={"description": "when it was archived (hidden from launchers and exports)"},
    )
    problems = fields.List(
        fields.Nested(lambda: DiagnosticSchema()),
        required=True,
        metadata={"description": "the engine's problems with the draft (publishing refuses them)"},
    )
    updated_by = fields.String(
        allow_none=True, required=True, metadata={"description": "who saved the draft last"}
    )
    published_field_keys = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "forms: field keys (table.column for columns) some published version "
            "has; they are fixed"
        },
    )


class DiagnosticSchema(Schema):
    """A problem, pinned on the element its JSON pointer names."""

    path = fields.String(required=True, metadata={"description": "JSON pointer into the body"})
    code = fields.String(required=True)
    message = fields.String(required=True)
    definition = fields.String(
        metadata={
            "description": "a problem found in another definition (`rule/dispatch`): `path` is "
            "then the app-wide one (`/rules/dispatch/...`)"
        }
    )


class CheckSchema(StrictSchema):
    """A body to check."""

    body = fields.Dict(required=True)


class VerdictSchema(Schema):
    """The engine's verdict on a body, as publishing would give it."""

    problems = fields.List(fields.Nested(DiagnosticSchema), required=True)
    warnings = fields.List(fields.Nested(lambda: WarningSchema()), required=True)


class OverviewSchema(Schema):
    """One definition in the workbench's list."""

    kind = fields.String(required=True)
    key = fields.String(required=True)
    name = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    status = fields.String(required=True, metadata={"enum": ["draft", "published", "changed"]})
    published_version = fields.Integer(allow_none=True, required=True)
    problems = fields.Integer(required=True)
    archived_at = fields.DateTime(allow_none=True, required=True)
    updated_at = fields.DateTime(required=True)
    lock_version = fields.Integer(required=True)


class ImpactSchema(Schema):
    """What publishing the draft would change and mean for the data."""

    published_version = fields.Integer(allow_none=True, required=True)
    diff = fields.Raw(
        required=True,
        metadata={"description": "forms: {fields, form, layout}; others: JSON-pointer changes"},
    )
    removed_values = fields.List(fields.Dict(), required=True)
    options_in_use = fields.List(fields.Dict(), required=True)
    required_empty = fields.List(fields.Dict(), required=True)
    running = fields.List(fields.Dict(), required=True)
    referenced_by = fields.List(fields.Dict(), required=True)


class DefinitionCreateSchema(StrictSchema):
    """A new definition; its key is ``body.key``."""

    body = fields.Dict(required=True)


class DraftUpdateSchema(StrictSchema):
    """A new draft, based on ``lock_version``."""

    body = fields.Dict(required=True)
    lock_version = fields.Integer(required=True, validate=validate.Range(min=1))


class PublishSchema(StrictSchema):
    """Publish the draft."""

    note = fields.String(load_default="", validate=validate.Length(max=2000))
    lock_version = fields.Integer(load_default=None, validate=validate.Range(min=1))


class ArchiveSchema(StrictSchema):
    """Archive or restore a published definition."""

    note = fields.String(
        load_default="", validate=validate.Length(max=2000), metadata={"description": "audited"}
    )
    lock_version = fields.Integer(load_default=None, validate=validate.Range(min=1))


class LockArgs(StrictSchema):
    """The lock version a deletion is based on."""

    lock_version = fields.Integer(required=True, validate=validate.Range(min=1))


class VersionSchema(Schema):
    """A published version."""

    version = fields.Integer(required=True)
    checksum = fields.String(required=True)
    note = fields.String(required=True)
    author_id = fields.Integer(allow_none=True)
    author = fields.String(allow_none=True, metadata={"description": "the author's name"})
    created_at = fields.DateTime(required=True)


class WarningSchema(Schema):
    """Something valid that will likely go wrong at run time."""

    code = fields.String(required=True)
    path = fields.String(required=True)
    message = fields.String(required=True)
    gaps = fields.List(
        fields.Dict(),
        metadata={
            "description": "decision.gap: input combinations no row matches ({input: value}; "
            '`{"other": true}` stands for a value no cell names, null for an empty input)'
        },
    )
    count = fields.Integer(metadata={"description": "decision.gap: how many combinations"})


class PublishedSchema(VersionSchema):
    """A version just published, with the warnings about it."""

    warnings = fields.List(fields.Nested(WarningSchema), required=True)


class VersionBodySchema(VersionSchema):
    """A published version with its body."""

    body = fields.Dict(required=True)


class Side(fields.Field[int | str]):
    """A version number or ``draft``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | str:
        if value == metadata.DRAFT:
            return metadata.DRAFT
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError("use a version number or 'draft'") from exc
        if number < 1:
            raise ValidationError("version numbers start at 1")
        return number


class DiffArgs(StrictSchema):
    """The two sides of a diff."""

    from_ = Side(required=True, data_key="from", metadata={"type": "string"})
    to = Side(load_default=metadata.DRAFT, metadata={"type": "string"})
    view = fields.String(
        load_default="pointers",
        validate=validate.OneOf(["pointers", "fields"]),
        metadata={"description": "fields: forms by field and label (other kinds: pointers)"},
    )


class PropertyChangeSchema(Schema):
    """One property's old and new value."""

    property = fields.String(required=True)
    old = fields.Raw(allow_none=True, required=True)
    new = fields.Raw(allow_none=True, required=True)


class FieldChangeSchema(Schema):
    """A field (or a sub-table's column) added, removed or changed."""

    op = fields.String(required=True, metadata={"enum": ["added", "removed", "changed"]})
    key = fields.String(required=True)
    parent = fields.String(allow_none=True, required=True, metadata={"description": "sub-table"})
    label = fields.Dict(allow_none=True, required=True)
    old_label = fields.Dict(allow_none=True, required=True)
    changes = fields.List(fields.Nested(PropertyChangeSchema), required=True)


class FormChangesSchema(Schema):
    """A form's changes by field, with labels."""

    fields_ = fields.List(fields.Nested(FieldChangeSchema), required=True, data_key="fields")
    form = fields.List(fields.Nested(PropertyChangeSchema), required=True)
    layout = fields.List(fields.Nested(PropertyChangeSchema), required=True)


class ChangeSchema(Schema):
    """One difference between two versions."""

    op = fields.String(required=True, metadata={"enum": ["added", "removed", "changed"]})
    path = fields.String(required=True, metadata={"description": "JSON pointer"})
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)


def _render(view: DefinitionView) -> dict[str, Any]:
    d = view.definition
    return {
        "key": d.key,
        "kind": d.kind,
        "body": d.draft,
        "draft_checksum": d.draft_checksum,
        "published_version": d.published_version,
        "dirty": view.dirty,
        "lock_version": d.lock_version,
        "updated_at": d.updated_at,
        "archived_at": d.archived_at,
        "problems": list(view.problems or ()),
        "updated_by": view.updated_by_name,
        "published_field_keys": list(view.published_keys),
    }


@blp.route(f"/<string:app>/{KIND_SEGMENT}")
class Definitions(MethodView):
    """Definitions of one kind."""

    @blp.response(200, DefinitionSchema(many=True))
    def get(self, app: str, kinds: str) -> list[dict[str, Any]]:
        """List definitions of a kind, by key."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            views = metadata.list_definitions(uow, actor, app, KINDS[kinds])
        return [_render(v) for v in views]

    @blp.arguments(DefinitionCreateSchema)
    @blp.response(201, DefinitionSchema, headers=LOCATION)
    def post(
        self, body: dict[str, Any], app: str, kinds: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Create a definition (its draft). The draft may be incomplete: the answer lists the
        engine's problems with it; only a body that is not an object with a valid ``key`` is
        refused (422)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            view = metadata.create_definition(uow, actor, app, KINDS[kinds], body["body"])
            uow.commit()
        out = _render(view)
        return created(out, "definitions.DefinitionItem", app=app, kinds=kinds, key=out["key"])


@blp.route(f"/<string:app>/{KIND_SEGMENT}/<string:key>")
class DefinitionItem(MethodView):
    """One definition's draft."""

    @blp.response(200, DefinitionSchema)
    def get(self, app: str, kinds: str, key: str) -> dict[str, Any]:
        """Read the draft."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return _render(metadata.read_draft(uow, actor, app, KINDS[kinds], key))

    @blp.arguments(DraftUpdateSchema)
    @blp.response(200, DefinitionSchema)
    def put(self, body: dict[str, Any], app: str, kinds: str, key: str) -> dict[str, Any]:
        """Replace the draft, which may hold problems (listed in the answer; publishing refuses
        them); a stale lock_version gets 409 with the draft as it is now and who saved it."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            view = metadata.update_draft(
                uow, actor, app, KINDS[kinds], key, body["body"], lock_version=body["lock_version"]
            )
            uow.commit()
        return _render(view)

    @blp.arguments(LockArgs, location="query")
    @blp.response(204)
    def delete(self, args: dict[str, Any], app: str, kinds: str, key: str) -> None:
        """Delete a definition that was never published (``?lock_version=``)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            metadata.delete_definition(
                uow, actor, app, KINDS[kinds], key, lock_version=args["lock_version"]
            )
            uow.commit()


@blp.route(f"/<string:app>/{KIND_SEGMENT}/<string:key>/publish")
class Publish(MethodView):
    """Publish the draft."""

    @blp.arguments(PublishSchema)
    @blp.response(201, PublishedSchema, headers=LOCATION)
    def post(
        self, body: dict[str, Any], app: str, kinds: str, key: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Publish the draft as the next version; an unchanged draft gets 409. ``warnings``
        name what is valid but will likely go wrong at run time (an assignee without the grants
        a task needs, a rule action that fails on the stored records)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            version, warnings = metadata.publish_advised(uow, actor, app, KINDS[kinds], key, **body)
            uow.commit()
        published = {
            "version": version.version,
            "checksum": version.checksum,
            "note": version.note,
            "author_id": version.author_id,
            "created_at": version.created_at,
            "warnings": warnings,
        }
        return created(
            published,
            "definitions.VersionItem",
            app=app,
            kinds=kinds,
            key=key,
            number=version.version,
        )


@blp.route(f"/<string:app>/{KIND_SEGMENT}/<string:key>/archive")
class Archive(MethodView):
    """Retire a published definition."""

    @blp.arguments(ArchiveSchema)
    @blp.response(200, DefinitionSchema)
    def post(self, body: dict[str, Any], app: str, kinds: str, key: str) -> dict[str, Any]:
        """Archive a published definition (administrators): it leaves the app's navigation, rule
        book and exports and takes no new records or flow starts; its versions stay readable and
        running flow instances finish. 409 ``definition.in_use`` lists the live definitions
        that name it, ``definition.not_published`` a draft never published."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            view = metadata.archive(uow, actor, app, KINDS[kinds], key, **body)
            uow.commit()
        return _render(view)


@blp.route(f"/<string:app>/{KIND_SEGMENT}/<string:key>/restore")
class Restore(MethodView):
    """Make an archived definition live again."""

    @blp.arguments(ArchiveSchema)
    @blp.response(200, DefinitionSchema)
    def post(self, body: dict[str, Any], app: str, kinds: str, key: str) -> dict[str, Any]:
        """Restore an archived definition (administrators); 409
        ``definition.archived_reference`` lists the archived definitions it names, which must be
        restored first."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            view = metadata.restore(uow, actor, app, KINDS[kinds], key, **body)
            uow.commit()
        return _render(view)


@blp.route(f"/<string:app>/{KIND_SEGMENT}/<string:key>/versions")
class Versions(MethodView):
    """Published versions."""

    @blp.response(200, VersionSchema(many=True))
    def get(self, app: str, kinds: str, key: str) -> list[dict[str, Any]]:
        """List versions, newest first, with their authors' names."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return design.version_history(uow, actor, app, KINDS[kinds], key)


@blp.route(f"/<string:app>/{KIND_SEGMENT}/<string:key>/versions/<int:number>")
class VersionItem(MethodView):
    """One published version."""

    @blp.response(200, VersionBodySchema)
    def get(self, app: str, kinds: str, key: str, number: int) -> DefinitionVersion:
        """Read a version with its body."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return metadata.get_version(uow, actor, app, KINDS[kinds], key, number)


@blp.route(f"/<string:app>/{KIND_SEGMENT}/<string:key>/diff")
class Diff(MethodView):
    """Differences between two versions."""

    @blp.arguments(DiffArgs, location="query")
    @blp.response(
        200, description="pointers: [{op, path, old, new}]; fields: {fields, form, layout}"
    )
    @blp.doc(
        responses={
            "200": {
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"type": "array", "items": {"$ref": "#/components/schemas/Change"}},
                                {"$ref": "#/components/schemas/FormChanges"},
                            ]
                        }
                    }
                }
            }
        }
    )
    def get(self, args: dict[str, Any], app: str, kinds: str, key: str) -> Any:
        """``?from=1&to=2`` (``to`` defaults to ``draft``): JSON-pointer paths added, removed and
        changed; ``view=fields`` gives a form's changes by field with their labels (fields added,
        removed and changed with each property's old and new value; form properties; layout)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            if args["view"] == "fields":
                return design.version_changes(
                    uow, actor, app, KINDS[kinds], key, from_=args["from_"], to=args["to"]
                )
            return metadata.diff_versions(
                uow, actor, app, KINDS[kinds], key, from_=args["from_"], to=args["to"]
            )


class SimulateSchema(StrictSchema):
    """What to simulate and over which records."""

    body = fields.Dict(
        load_default=None,
        metadata={
            "description": "a rule, decision table or SLA policy to try; the saved draft by default"
        },
    )
    filter = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "record filters as in record lists: {'status': 'new'}"},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class SimulationSchema(Schema):
    """What the draft would do, and where it differs from the published version."""

    rule = fields.String(required=True)
    type = fields.String(required=True)
    form = fields.String(required=True)
    published_version = fields.Integer(allow_none=True, required=True)
    evaluated = fields.Integer(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    effects = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    changed = fields.Integer(
        allow_none=True, required=True, metadata={"description": "records whose outcome changes"}
    )
    records = fields.List(fields.Dict(), required=True)
    changes = fields.List(fields.Dict(), required=True)
    targets = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        metadata={"description": "an SLA policy's records per target and state"},
    )
    published_counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        allow_none=True,
        metadata={"description": "an SLA policy's records within or breached when published"},
    )
    published_targets = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        allow_none=True,
        metadata={"description": "the same under the published version (null before one)"},
    )


@blp.route("/<string:app>/rules/<string:key>/simulate")
class Simulate(MethodView):
    """What-if for a rule, decision table or SLA policy."""

    @blp.arguments(SimulateSchema)
    @blp.response(200, SimulationSchema)
    def post(self, body: dict[str, Any], app: str, key: str) -> dict[str, Any]:
        """Run the draft over stored records (nothing is written): outcomes, counts and the
        differences from the published version. An SLA policy is replayed over each record's
        history up to now: records within or breached, and per target how many are running,
        paused, warned, met, met late or breached."""
        actor = require_actor()
        filters = [
            Filter.parse(name, value if isinstance(value, list) else [str(value)])
            for name, value in body["filter"].items()
        ]
        with platform().unit_of_work(write=False) as uow:
            return whatif.simulate(
                uow, actor, app, key, body=body["body"], filters=filters, limit=body["limit"]
            )


class DecisionSchema(StrictSchema):
    """One decision of a flow simulation."""

    action = fields.String(
        required=True,
        validate=validate.OneOf(flows.DECISIONS),
        metadata={
            "description": "approve (or submit) or reject (or return) an open task — the verb "
            "fitting the node is used —, let its time limit run out (timeout), or let a timer "
            "or a sub-process waiting at the node end (continue)"
        },
    )
    node = fields.String(
        load_default=None, metadata={"description": "the node whose task (or wait) it settles"}
    )
    user = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "the person whose task it is, when several hold one"},
    )
    target = fields.String(
        load_default=None, metadata={"description": "where a rejection sends the process back"}
    )
    opinion = fields.String(load_default="", validate=validate.Length(max=2000))
    values = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "what the task's form changes before the decision"},
    )


class FlowSimulateSchema(StrictSchema):
    """What to play: the draft (or a body), on a stored record or sample values, with decisions."""

    body = fields.Dict(
        load_default=None, metadata={"description": "a flow to try; the saved draft by default"}
    )
    record = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "a stored record of the flow's form"},
    )
    values = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "sample values (over the record's, when one is named)"},
    )
    decisions = fields.List(
        fields.Nested(DecisionSchema),
        load_default=list,
        validate=validate.Length(max=flows.MAX_DECISIONS),
    )
    initiator = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "who starts it (the record's owner, or the caller, by default)"},
    )


class FlowSimulationSchema(Schema):
    """What the flow would do."""

    flow = fields.String(required=True)
    form = fields.String(required=True)
    record = fields.Integer(allow_none=True, required=True)
    status = fields.String(
        required=True,
        metadata={"description": "running, completed, terminated, cancelled, or stopped (problem)"},
    )
    played = fields.Integer(required=True, metadata={"description": "decisions carried out"})
    steps = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": "in order: started, enter (a node, from where, its tasks, CCs, "
            "actions, timer), condition (an edge's condition, the values it read, whether it "
            "held), decision, ended"
        },
    )
    path = fields.List(fields.String(), required=True)
    edges = fields.List(fields.List(fields.String()), required=True)
    open = fields.List(fields.Dict(), required=True)
    waiting = fields.List(fields.Dict(), required=True)
    problem = fields.Dict(allow_none=True, required=True)
    users = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


@blp.route("/<string:app>/flows/<string:key>/simulate")
class SimulateFlow(MethodView):
    """Play a flow's draft on a record."""

    @blp.arguments(FlowSimulateSchema)
    @blp.response(200, FlowSimulationSchema)
    def post(self, body: dict[str, Any], app: str, key: str) -> dict[str, Any]:
        """Run the draft (or ``body``) through the flow engine on a stored record or sample
        values with a sequence of decisions; nothing is written. The answer tells every step
        (conditions with the values they read, who gets each task), the path taken and what
        waits for the next decision (designers of the app)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return flows.simulate(
                uow,
                actor,
                app,
                key,
                body=body["body"],
                record=body["record"],
                values=body["values"],
                decisions=body["decisions"],
                initiator=body["initiator"],
            )


@blp.route(f"/<string:app>/{KIND_SEGMENT}/check")
class Check(MethodView):
    """The engine's live verdict on a body."""

    @blp.arguments(CheckSchema)
    @blp.response(200, VerdictSchema)
    def post(self, body: dict[str, Any], app: str, kinds: str) -> dict[str, Any]:
        """Judge a body exactly as publishing would (meta-schema, the definitions it names, the
        kind's compiler and checks) and answer its problems and warnings, each at the JSON
        pointer of the element it concerns; nothing is saved (designers of the app)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            verdict = metadata.check_body(uow, actor, app, KINDS[kinds], body["body"])
        return {"problems": verdict.problems, "warnings": verdict.warnings}


class RestoreVersionSchema(StrictSchema):
    """The lock version of the draft being replaced."""

    lock_version = fields.Integer(required=True, validate=validate.Range(min=1))


@blp.route(f"/<string:app>/{KIND_SEGMENT}/<string:key>/versions/<int:number>/restore")
class RestoreVersion(MethodView):
    """A published version as the draft again."""

    @blp.arguments(RestoreVersionSchema)
    @blp.response(200, DefinitionSchema)
    def post(self, body: dict[str, Any], app: str, kinds: str, key: str, number: int) -> Any:
        """Replace the draft with version ``number``'s body (audited
        ``definition.draft_restored``); a stale lock_version gets 409."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            view = metadata.restore_version(
                uow, actor, app, KINDS[kinds], key, number, lock_version=body["lock_version"]
            )
            uow.commit()
        return _render(view)


@blp.route(f"/<string:app>/{KIND_SEGMENT}/<string:key>/impact")
class Impact(MethodView):
    """What publishing the draft would mean."""

    @blp.response(200, ImpactSchema)
    def get(self, app: str, kinds: str, key: str) -> dict[str, Any]:
        """The draft's changes from the published version and what they mean for the data:
        values left in removed fields, removed options still in use, records a newly required
        field finds empty, running flow instances by version, and the definitions that name it."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return design.impact(uow, actor, app, KINDS[kinds], key)


@blp.route("/<string:app>/definitions")
class Overview(MethodView):
    """The workbench's list."""

    @blp.response(200, OverviewSchema(many=True))
    def get(self, app: str) -> list[dict[str, Any]]:
        """Every definition of the app by kind and key, without bodies: name, status (draft /
        published / changed since the published version), problems of the draft (designers of
        the app)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return design.overview(uow, actor, app)


class RoleAccessSchema(Schema):
    """One role that may create, read or update a form's records, with its field rules."""

    role_id = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.String(required=True)
    grant_id = fields.Integer(required=True)
    app_key = fields.String(required=True)
    form_key = fields.String(required=True, metadata={"description": "the form, or `*`"})
    actions = fields.List(fields.String(), required=True)
    scope = fields.String(required=True)
    field_rules = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "field → `read_only` or `hidden`; other fields are writable"},
    )
    settable = fields.Boolean(
        required=True,
        metadata={"description": "the grant is the form's own (a grant on `*` has no rules)"},
    )


class FormAccessSchema(Schema):
    """Who reads and writes which fields of a form."""

    levels = fields.List(fields.String(), required=True)
    editable = fields.Boolean(
        required=True, metadata={"description": "the caller may change the rules"}
    )
    roles = fields.List(fields.Nested(RoleAccessSchema), required=True)


class GrantRulesSchema(StrictSchema):
    """The new field rules of one grant of the form."""

    grant_id = fields.Integer(required=True, validate=validate.Range(min=1, max=ID_MAX))
    field_rules = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        values=fields.String(validate=validate.OneOf(["read_only", "hidden"])),
        required=True,
        validate=validate.Length(max=2000),
    )


class FormAccessUpdateSchema(StrictSchema):
    """Field rules to set, grant by grant (grants not named keep theirs)."""

    roles = fields.List(
        fields.Nested(GrantRulesSchema), required=True, validate=validate.Length(max=500)
    )


@blp.route("/<string:app>/forms/<string:key>/access")
class FormAccess(MethodView):
    """The form designer's permission matrix."""

    @blp.response(200, FormAccessSchema)
    def get(self, app: str, key: str) -> dict[str, Any]:
        """Every role that may create, read or update the form's records, with the fields its
        grant makes read-only or hides (designers of the app)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return access.form_access(uow, actor, app, key)

    @blp.arguments(FormAccessUpdateSchema)
    @blp.response(200, FormAccessSchema)
    def put(self, body: dict[str, Any], app: str, key: str) -> dict[str, Any]:
        """Replace the field rules of the named grants of the form, all or none; they apply at
        once (administrators)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            out = access.set_form_access(
                uow, actor, app, key, {r["grant_id"]: r["field_rules"] for r in body["roles"]}
            )
            uow.commit()
        return out


class DirectorySchema(Schema):
    """Who assignee rules may name."""

    users = fields.List(
        fields.Dict(), required=True, metadata={"description": "id, username, display_name"}
    )
    groups = fields.List(
        fields.Dict(), required=True, metadata={"description": "id, key, name, parent_id"}
    )
    roles = fields.List(fields.Dict(), required=True, metadata={"description": "id, key, name"})


@blp.route("/<string:app>/directory")
class Directory(MethodView):
    """The directory as the designers see it."""

    @blp.response(200, DirectorySchema)
    def get(self, app: str) -> dict[str, Any]:
        """Active users, groups and roles by id, key and name, for the assignee pickers of the
        designers (of the app; administrators too)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return design.directory(uow, actor, app)


class ProbeArgsSchema(StrictSchema):
    """When does a target of working minutes starting at a time end."""

    start = fields.DateTime(
        required=True,
        metadata={"description": "ISO 8601; without an offset, in the calendar's time zone"},
    )
    minutes = fields.Float(
        required=True, validate=validate.Range(min=0, min_inclusive=False, max=probe.MAX_MINUTES)
    )
    body = fields.Dict(
        load_default=None, metadata={"description": "a calendar to try; the saved draft by default"}
    )


class ProbeSchema(Schema):
    """The due time and the working stretches that make it."""

    start = fields.String(required=True)
    minutes = fields.Float(required=True)
    due = fields.String(required=True)
    time_zone = fields.String(required=True)
    segments = fields.List(
        fields.Dict(), required=True, metadata={"description": "start, end, minutes (in order)"}
    )


@blp.route("/<string:app>/calendars/<string:key>/probe")
class CalendarProbe(MethodView):
    """A calendar's due-time probe."""

    @blp.arguments(ProbeArgsSchema)
    @blp.response(200, ProbeSchema)
    def post(self, body: dict[str, Any], app: str, key: str) -> dict[str, Any]:
        """When ``minutes`` of working time from ``start`` end on the calendar's draft (or
        ``body``), and the working stretches that make it so (designers of the app)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return probe.probe(
                uow,
                actor,
                app,
                key,
                start=body["start"],
                minutes=body["minutes"],
                body=body["body"],
            )
