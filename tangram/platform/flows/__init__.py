"""Flows at run time: instances on records, task commands and their effects, migration between
versions and the inbox."""

from tangram.platform.flows.commands import (
    TaskCommand,
    act,
    cancel_task,
    handle,
    install,
    instance_action,
    report_stuck,
    start,
)
from tangram.platform.flows.context import (
    app_key_of,
    engine_context,
    instance_of,
    manager_of,
    permissions_at,
)
from tangram.platform.flows.definitions import (
    check,
    compile_flow,
    load_process,
    process,
    start_fields,
)
from tangram.platform.flows.diagram import instance_diagram
from tangram.platform.flows.effects import (
    FLOW_ENDED,
    START_REQUESTED,
    TIMER_JOB,
    apply,
)
from tangram.platform.flows.inbox import (
    BOXES,
    inbox,
    inbox_context,
    inbox_facets,
    record_flows,
    task_view,
)
from tangram.platform.flows.migration import (
    migrate,
)
from tangram.platform.flows.simulation import DECISIONS, MAX_DECISIONS, simulate

__all__ = [
    "BOXES",
    "DECISIONS",
    "FLOW_ENDED",
    "MAX_DECISIONS",
    "START_REQUESTED",
    "TIMER_JOB",
    "TaskCommand",
    "act",
    "app_key_of",
    "apply",
    "cancel_task",
    "check",
    "compile_flow",
    "engine_context",
    "handle",
    "inbox",
    "inbox_context",
    "inbox_facets",
    "install",
    "instance_action",
    "instance_diagram",
    "instance_of",
    "load_process",
    "manager_of",
    "migrate",
    "permissions_at",
    "process",
    "record_flows",
    "report_stuck",
    "simulate",
    "start",
    "start_fields",
    "task_view",
]
