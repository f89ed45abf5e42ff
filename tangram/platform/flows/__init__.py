"""Flows at run time: instances on records, task commands, effects, migration and the inbox."""

from tangram.platform.flows.commands import (
    BOXES,
    TIMER_JOB,
    TaskCommand,
    act,
    check,
    inbox,
    inbox_context,
    install,
    instance_action,
    manager_of,
    migrate,
    process,
    record_flows,
    start,
    task_view,
)

__all__ = [
    "BOXES",
    "TIMER_JOB",
    "TaskCommand",
    "act",
    "check",
    "inbox",
    "inbox_context",
    "install",
    "instance_action",
    "manager_of",
    "migrate",
    "process",
    "record_flows",
    "start",
    "task_view",
]
