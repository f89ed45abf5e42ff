"""The flow engine: process definitions compiled once, run by a token engine.

Pure: ``compile_process(definition) -> Process``; ``Process.start(ctx) -> (state, effects)`` and
``Process.handle(state, command, ctx) -> (state, effects)``. The state is JSON with a
``schema_version``; the platform persists it, applies the effects and keeps the inbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tangram.engines.flows.context import (
    ACTIONS,
    SCHEMA_VERSION,
    Command,
    Context,
    Eligibility,
    FlowError,
    Observer,
    Resolver,
)
from tangram.engines.flows.definition import compile_definition
from tangram.engines.flows.effects import (
    CancelTimer,
    CarbonCopy,
    Escalate,
    FlowEffect,
    FlowEnded,
    Notify,
    RunActions,
    ScheduleTimer,
    StartSubProcess,
    TaskClosed,
    TaskOpened,
    TaskReassigned,
)
from tangram.engines.flows.nodes import (
    NODE_TYPES,
    Edge,
    Multi,
    Node,
    ProcessDefinition,
    Timeout,
)
from tangram.engines.flows.runtime import Process, migrate_state


def compile_process(
    definition: Mapping[str, Any],
    *,
    fields: frozenset[str] | None = None,
    subtables: Mapping[str, frozenset[str]] | None = None,
    flows: frozenset[str] | None = None,
    forms: frozenset[str] | None = None,
    version: int = 1,
) -> Process:
    """Check a process definition completely and compile it (``version`` is the definition's
    published version, pinned into every instance it starts)."""
    return Process(
        compile_definition(
            definition, fields=fields, subtables=subtables, flows=flows, forms=forms
        ),
        version,
    )


__all__ = [
    "ACTIONS",
    "NODE_TYPES",
    "SCHEMA_VERSION",
    "CancelTimer",
    "CarbonCopy",
    "Command",
    "Context",
    "Edge",
    "Eligibility",
    "Escalate",
    "FlowEffect",
    "FlowEnded",
    "FlowError",
    "Multi",
    "Node",
    "Notify",
    "Observer",
    "Process",
    "ProcessDefinition",
    "Resolver",
    "RunActions",
    "ScheduleTimer",
    "StartSubProcess",
    "TaskClosed",
    "TaskOpened",
    "TaskReassigned",
    "Timeout",
    "compile_process",
    "migrate_state",
]
