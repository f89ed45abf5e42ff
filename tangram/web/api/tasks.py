"""Flows over HTTP: start a flow on a record, the inbox, task commands, instance commands."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from tangram.platform import flows
from tangram.platform.kernel.errors import TangramError
from tangram.platform.kernel.models import CarbonCopyEntry, FlowInstance, Task
from tangram.web.api.common import MAX_PAGE, StrictSchema
from tangram.web.api.records import lang_of
from tangram.web.decoding import Blueprint
from tangram.web.security import platform, require_actor

PREFIX = ""
blp = Blueprint("tasks", __name__, description="Flows, tasks and the inbox")

TASK_ACTIONS = (
    "approve",
    "reject",
    "submit",
    "return",
    "transfer",
    "delegate",
    "add_signer",
    "comment",
)
INSTANCE_ACTIONS = ("withdraw", "urge", "comment", "cancel")


class TaskSchema(Schema):
    """A task as the inbox lists it."""

    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    node = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "fill or approval"})
    app_key = fields.String(required=True)
    flow_key = fields.String(required=True)
    form_key = fields.String(required=True)
    record_id = fields.Integer(required=True)
    assignee_id = fields.Integer(allow_none=True, required=True)
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True, required=True)
    actor_id = fields.Integer(allow_none=True, required=True)
    opinion = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    acted_at = fields.DateTime(allow_none=True, required=True)
    due_at = fields.DateTime(
        allow_none=True, required=True, metadata={"description": "When its time limit runs out"}
    )


class InstanceSchema(Schema):
    """A flow instance."""

    id = fields.Integer(required=True)
    flow_key = fields.String(required=True)
    version = fields.Integer(required=True)
    form_key = fields.String(required=True)
    record_id = fields.Integer(required=True)
    status = fields.String(required=True)
    initiator_id = fields.Integer(allow_none=True, required=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True, required=True)


class CarbonCopySchema(Schema):
    """A process copied to the caller."""

    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    node = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True, required=True)


class InboxQuerySchema(StrictSchema):
    """Which box, which of its items and which page (``offset``: how many items come before)."""

    box = fields.String(load_default="todo", validate=validate.OneOf(flows.BOXES))
    app = fields.String(load_default=None, metadata={"description": "only this app"})
    flow = fields.String(load_default=None, metadata={"description": "only this flow"})
    form = fields.String(load_default=None, metadata={"description": "only this form's records"})
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "only records with this number (`#12`) or title text"},
    )
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    lang = fields.String(load_default=None, validate=validate.OneOf(["zh-CN", "en"]))


class InboxSchema(Schema):
    """One page of a box and the counts of every box."""

    box = fields.String(required=True)
    items = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": "Each item with `label` (its node's, or the flow's), `flow_label`, "
            "`form_label` and the record's `title`, in the language asked; an open task also "
            "with `due` (its time limit or its record's nearest SLA due time, the sooner), "
            "`overdue`, and `urgency` (`value`, `label`, `rank` among the options: 0 the most "
            "urgent) as the form's SLA policy reads it"
        },
    )
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    facets = fields.Dict(
        required=True,
        metadata={
            "description": "What the box's filters offer: `forms` and `flows`, each item with "
            "`app`, `key`, `label` (in the language asked) and `count`"
        },
    )
    next_offset = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "The offset of the next page (none after the last)"},
    )


class ReturnedSchema(Schema):
    """Who sent a task's work back to it, when, from which node and why."""

    by = fields.Integer(allow_none=True, required=True, metadata={"description": "A user id"})
    at = fields.String(allow_none=True, required=True)
    node = fields.String(required=True, metadata={"description": "The node that sent it back"})
    action = fields.String(required=True, metadata={"description": "rejected, returned, ..."})
    opinion = fields.String(allow_none=True, required=True)


class TaskViewSchema(Schema):
    """A task with the record as its holder may see it and what they may do."""

    task = fields.Nested(TaskSchema, required=True)
    instance = fields.Nested(InstanceSchema, required=True)
    record = fields.Dict(
        required=True,
        metadata={"description": "`id`, `data` (as this task may see it) and `lock_version`"},
    )
    row = fields.Dict(
        allow_none=True,
        required=True,
        metadata={
            "description": "a task of one sub-table row: its `table`, `id` and `index` (the row "
            "comes first in `record.data`; the task may change only that row of the table)"
        },
    )
    permissions = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    required = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Fields a submission or an approval must leave filled in"},
    )
    returned = fields.Nested(
        ReturnedSchema,
        allow_none=True,
        required=True,
        metadata={"description": "Why this task's work came back, when it did"},
    )
    summary = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "The fields the step before this one filled in: what is to be decided"
        },
    )
    actions = fields.List(fields.String(), required=True)
    reject_to = fields.List(fields.String(), required=True)
    label = fields.Dict(required=True)
    nodes = fields.Dict(
        required=True, metadata={"description": "Every node's label by language, by node id"}
    )
    flow_label = fields.String(required=True, metadata={"description": "In the language asked"})
    history = fields.List(fields.Dict(), required=True)


class TaskCommandSchema(StrictSchema):
    """What to do with a task."""

    opinion = fields.String(load_default="", validate=validate.Length(max=5000))
    target = fields.String(
        load_default=None,
        metadata={"description": "reject / return: start, previous or a node id"},
    )
    user = fields.Integer(
        load_default=None, metadata={"description": "transfer, delegate, add_signer: who"}
    )
    position = fields.String(load_default="after", validate=validate.OneOf(("before", "after")))
    data = fields.Dict(
        load_default=None, metadata={"description": "record fields this node lets you edit"}
    )
    attachments = fields.List(fields.Integer(), load_default=list)
    lock_version = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={
            "description": "with `data`: the record's lock_version the task showed; what you "
            "changed since it is merged with what others changed since (409 on a conflict)"
        },
    )


class CancelTaskSchema(StrictSchema):
    """Why an administrator withdraws a task."""

    opinion = fields.String(
        required=True,
        validate=[
            validate.Length(max=5000),
            validate.Regexp(r"\S", error="Say why the task is withdrawn."),
        ],
        metadata={"description": "why the task is withdrawn (kept with the task and the history)"},
    )


class InstanceCommandSchema(StrictSchema):
    """What to do with an instance."""

    opinion = fields.String(load_default="", validate=validate.Length(max=5000))
    attachments = fields.List(fields.Integer(), load_default=list)


class StartSchema(StrictSchema):
    """Which flow to start."""

    flow = fields.String(required=True)


class RecordFlowSchema(Schema):
    """A flow of a record: where it stands and who holds its open tasks."""

    id = fields.Integer(required=True)
    flow = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    current = fields.List(fields.String(), required=True)
    holders = fields.List(fields.Dict(), required=True)
    initiator = fields.Integer(allow_none=True, required=True)
    label = fields.String(
        required=True, metadata={"description": "The flow's, in the language asked"}
    )
    nodes = fields.Dict(
        required=True, metadata={"description": "Every node's label by language, by node id"}
    )
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True, required=True)
    history = fields.List(fields.Dict(), required=True)


#: The schemas an inbox item is dumped with, made once (making one copies its declared fields:
#: per item, that was a third of a 50-item page's time).
_TASK, _CC, _INSTANCE = TaskSchema(), CarbonCopySchema(), InstanceSchema()


def _item(item: Any) -> dict[str, Any]:
    schema: Schema
    if isinstance(item, Task):
        schema = _TASK
    elif isinstance(item, CarbonCopyEntry):
        schema = _CC
    else:
        assert isinstance(item, FlowInstance)
        schema = _INSTANCE
    dumped: dict[str, Any] = schema.dump(item)
    return dumped


@blp.route("/tasks")
class Inbox(MethodView):
    """My boxes: 待办 todo, 已办 done, 抄送我 cc, 我发起的 started."""

    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, InboxSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """One page of a box, newest first, with the counts of all four boxes."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            items, counts = flows.inbox(
                uow,
                actor,
                args["box"],
                offset=args["offset"],
                limit=args["limit"],
                app_key=args["app"],
                flow_key=args["flow"],
                form_key=args["form"],
                q=args["q"],
            )
            labels = flows.inbox_context(uow, items, lang_of())
            facets = flows.inbox_facets(uow, actor, args["box"], lang_of())
            page = [{**_item(i), **extra} for i, extra in zip(items, labels, strict=True)]
        more = len(items) == args["limit"]
        return {
            "box": args["box"],
            "items": page,
            "counts": counts,
            "facets": facets,
            "next_offset": args["offset"] + len(items) if more else None,
        }


@blp.route("/tasks/<int:task_id>")
class TaskItem(MethodView):
    """One task."""

    @blp.response(200, TaskViewSchema)
    def get(self, task_id: int) -> dict[str, Any]:
        """The task, the record with the node's permissions applied, the allowed actions."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return flows.task_view(uow, actor, task_id, lang=lang_of())


@blp.route(f"/tasks/<int:task_id>/<any({', '.join(TASK_ACTIONS)}):action>")
class TaskAction(MethodView):
    """Act on a task."""

    @blp.arguments(TaskCommandSchema)
    @blp.response(200, TaskViewSchema)
    def post(self, body: dict[str, Any], task_id: int, action: str) -> dict[str, Any]:
        """Approve, reject (to ``target``), submit (with ``data``), return, transfer or delegate
        (to ``user``), add a signer (``user``, ``position``) or comment. A task acts once: a
        second command gets 409."""
        actor = require_actor()
        try:
            with platform().unit_of_work() as uow:
                flows.act(
                    uow,
                    platform().settings,
                    actor,
                    task_id,
                    flows.TaskCommand(action, **body),
                    lang=lang_of(),
                )
                view = flows.task_view(uow, actor, task_id, lang=lang_of())
                uow.commit()
        except TangramError as exc:
            if exc.code == "flow.condition":  # the definition fails here: tell the administrators
                with platform().unit_of_work() as uow:
                    flows.report_stuck(uow, task_id, exc.detail)
                    uow.commit()
            raise
        return view


@blp.route("/tasks/<int:task_id>/cancel")
class TaskCancel(MethodView):
    """Withdraw a task (administrators)."""

    @blp.arguments(CancelTaskSchema)
    @blp.response(200, TaskViewSchema)
    def post(self, body: dict[str, Any], task_id: int) -> dict[str, Any]:
        """Cancel an open task (WCP-19): it closes as cancelled, neither approved nor rejected,
        and its node goes on with the tasks that are left; when it was the last, the flow moves
        on as the node's rule says. Administrators only (403 `permission.admin_required`); a task
        that is not open gets 409."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            flows.cancel_task(uow, platform().settings, actor, task_id, opinion=body["opinion"])
            view = flows.task_view(uow, actor, task_id, lang=lang_of())
            uow.commit()
        return view


@blp.route(f"/flows/<int:instance_id>/<any({', '.join(INSTANCE_ACTIONS)}):action>")
class InstanceAction(MethodView):
    """Act on a whole instance."""

    @blp.arguments(InstanceCommandSchema)
    @blp.response(200, InstanceSchema)
    def post(self, body: dict[str, Any], instance_id: int, action: str) -> FlowInstance:
        """Withdraw (the initiator, while the next node is untouched), urge, comment or cancel."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            instance = flows.instance_action(
                uow, platform().settings, actor, instance_id, action, **body
            )
            uow.commit()
        return instance


class DiagramSchema(Schema):
    """An instance as its diagram shows it."""

    id = fields.Integer(required=True)
    app = fields.String(required=True)
    flow = fields.String(required=True)
    version = fields.Integer(required=True)
    form = fields.String(required=True)
    record = fields.Integer(required=True)
    status = fields.String(required=True)
    now = fields.DateTime(
        required=True, metadata={"description": "the server's time (waiting times count to it)"}
    )
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True, required=True)
    definition = fields.Dict(
        required=True,
        metadata={"description": "the version's key, label, form, nodes, edges and layout"},
    )
    path = fields.List(
        fields.List(fields.String()),
        required=True,
        metadata={"description": "the moves its tokens made, [from, to] in order"},
    )
    visited = fields.List(fields.String(), required=True)
    waiting = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": "where it waits: node, kind (task, timer, sub_process, join), the "
            "holders of open tasks (user, name, since) or a timer's `until`"
        },
    )


@blp.route("/flows/<int:instance_id>/diagram")
class InstanceDiagram(MethodView):
    """An instance drawn."""

    @blp.response(200, DiagramSchema)
    def get(self, instance_id: int) -> dict[str, Any]:
        """The instance's flow version, the path taken and where it waits, with who holds each
        open task since when (those who may read the record)."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return flows.instance_diagram(uow, actor, instance_id)


@blp.route("/apps/<string:app>/records/<string:form>/<int:record_id>/flows")
class RecordFlows(MethodView):
    """The flows of a record."""

    @blp.response(200, RecordFlowSchema(many=True))
    def get(self, app: str, form: str, record_id: int) -> list[dict[str, Any]]:
        """Every instance on the record: status, current nodes, holders, history."""
        actor = require_actor()
        with platform().unit_of_work(write=False) as uow:
            return flows.record_flows(uow, actor, app, form, record_id, lang=lang_of())

    @blp.arguments(StartSchema)
    @blp.response(201, InstanceSchema)
    def post(self, body: dict[str, Any], app: str, form: str, record_id: int) -> FlowInstance:
        """Start the newest version of a flow on the record."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            instance = flows.start(uow, platform().settings, actor, app, body["flow"], record_id)
            uow.commit()
        return instance


class MigrateSchema(StrictSchema):
    """Which instances to move where, and whether to do it or only look."""

    source = fields.Integer(required=True, data_key="from", validate=validate.Range(min=1))
    target = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1))
    mapping = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    apply = fields.Boolean(load_default=False)


class MigrationSchema(Schema):
    """What moving the instances does (or did)."""

    flow = fields.String(required=True)
    source = fields.Integer(required=True)
    target = fields.Integer(required=True)
    applied = fields.Boolean(required=True)
    instances = fields.List(fields.Dict(), required=True)


@blp.route("/apps/<string:app>/flows/<string:key>/migrate")
class Migrate(MethodView):
    """Move running instances to another version (administrators)."""

    @blp.arguments(MigrateSchema)
    @blp.response(200, MigrationSchema)
    def post(self, body: dict[str, Any], app: str, key: str) -> dict[str, Any]:
        """Preview, then with ``apply: true`` move every running instance of version ``from`` to
        version ``to`` with a node mapping (all or nothing)."""
        actor = require_actor()
        with platform().unit_of_work() as uow:
            out = flows.migrate(uow, actor, app, key, **body)
            uow.commit()
        return out
