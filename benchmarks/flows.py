"""Flow engine speed: a 3-step approval against SpiffWorkflow, the ticket flow, and the platform.

(a) the same 3-step approval process run to the end on SpiffWorkflow (the peer to beat) and on our
engine, in memory, then with the state serialised at each wait step (SpiffWorkflow's JSON
serializer; our state is JSON already: ``json.dumps`` / ``json.loads``); (b) the after-sales
ticket-handling flow (fills, a major-issue branch, an approval, one execution task per measure
owner, acceptance, callback, a carbon copy) in memory; (c) through the platform on SQLite: every
step persists the state, the task rows, the history as audit entries and the notifications.

    .venv/bin/python benchmarks/flows.py [--instances 2000] [--platform 100]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox import temporary_platform
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from tangram.engines.flows import Command, Context, Process, compile_process
from tangram.platform import flows, metadata, records
from tangram.platform.identity import users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import Task

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="https://tangram.invalid/bench">
  <bpmn:process id="approval" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="a"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="b"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="c"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a"/>
    <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b"/>
    <bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="c"/>
    <bpmn:sequenceFlow id="f4" sourceRef="c" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def _text(value: str) -> dict[str, str]:
    return {"zh-CN": value}


def _node(node_id: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_, **extra}


def _chain(*ids: str) -> list[dict[str, str]]:
    return [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]


THREE_STEPS = {
    "key": "approval",
    "label": _text("approval"),
    "form": "ticket",
    "nodes": [
        _node("start", "start"),
        *(_node(n, "approval", assignees={"users": [7]}) for n in "abc"),
        _node("end", "end"),
    ],
    "edges": _chain("start", "a", "b", "c", "end"),
}
TICKET_FLOW = {
    "key": "ticket_handling",
    "label": _text("ticket handling"),
    "form": "ticket",
    "nodes": [
        _node("start", "start"),
        _node("first_response", "fill", assignees={"field": "assignee"}),
        _node("analysis", "fill", assignees={"field": "assignee"}),
        _node("plan", "fill", assignees={"field": "assignee"}),
        _node("major", "exclusive"),
        _node("director", "approval", assignees={"users": [9]}, reject_to=["plan"]),
        _node(
            "execution",
            "fill",
            multi={"over": "measures", "assignee_field": "owner", "mode": "parallel"},
        ),
        _node("acceptance", "fill", assignees={"field": "assignee"}),
        _node("callback", "fill", assignees={"field": "assignee"}),
        _node("notify_manager", "cc", assignees={"users": [9]}),
        _node("end", "end"),
    ],
    "edges": [
        *_chain("start", "first_response", "analysis", "plan", "major"),
        {"from": "major", "to": "director", "condition": {"var": "major"}},
        {"from": "major", "to": "execution", "default": True},
        {"from": "director", "to": "execution"},
        *_chain("execution", "acceptance", "callback", "notify_manager", "end"),
    ],
}
TICKET_FIELDS = frozenset({"assignee", "major", "measures", "title"})
TICKET_DATA = {
    "assignee": 5,
    "major": True,
    "measures": [{"what": "fix", "owner": 5}, {"what": "test", "owner": 6}],
}


def rate(fn: Callable[[], Any], n: int) -> float:
    fn()  # warm
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def spiff(serialised: bool) -> Callable[[], None]:
    parser = BpmnParser()
    parser.add_bpmn_str(BPMN.encode())
    spec = parser.get_spec("approval")
    serializer = BpmnWorkflowSerializer()

    def run() -> None:
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        while not wf.is_completed():
            if serialised:
                wf = serializer.deserialize_json(serializer.serialize_json(wf))
            for task in wf.get_tasks(state=TaskState.READY, manual=True):
                task.run()
            wf.do_engine_steps()

    return run


def drive(process: Process, data: dict[str, Any], serialised: bool) -> Callable[[], int]:
    ctx = Context(now=NOW, data=data)

    def run() -> int:
        state, _ = process.start(ctx, initiator=1)
        steps = 0
        while state["status"] == "running":
            if serialised:
                state = json.loads(json.dumps(state))
            for task in [t for t in state["tasks"].values() if t["status"] == "open"]:
                action = "approve" if task["kind"] == "approval" else "submit"
                state, _ = process.handle(
                    state, Command(action, actor=task["assignee"], task=task["id"]), ctx
                )
                steps += 1
        return steps

    return run


def engine(instances: int) -> None:
    three = compile_process(THREE_STEPS)
    print(f"(a) 3-step approval, {instances} instances to the end")
    print(f"{'':<24} {'SpiffWorkflow/s':>16} {'Tangram/s':>10} {'speed-up':>9}")
    for label, serialised in (("in memory", False), ("state serialised", True)):
        peer = rate(spiff(serialised), max(instances // 4, 50))
        ours = rate(drive(three, {}, serialised), instances)
        print(f"{label:<24} {peer:>16,.0f} {ours:>10,.0f} {ours / peer:>8.1f}x")
    ticket = compile_process(
        TICKET_FLOW,
        fields=TICKET_FIELDS,
        subtables={"measures": frozenset({"what", "owner"})},
    )
    steps = drive(ticket, TICKET_DATA, False)()
    per_second = rate(drive(ticket, TICKET_DATA, False), instances)
    print(
        f"\n(b) after-sales ticket flow in memory: {per_second:,.0f} instances/s "
        f"({steps} task steps each, {per_second * steps:,.0f} steps/s)"
    )


def through_platform(instances: int, repeat: int = 3) -> None:
    """(c) ms per step with everything persisted on SQLite."""
    with temporary_platform() as platform:
        settings = platform.settings
        system = Actor.system("bench")
        with platform.unit_of_work() as uow:
            metadata.create_app(uow, system, key="bench", name=_text("bench"))
            people = [users.create_user(uow, system, username=f"u{n}").id for n in range(10)]
            form = {
                "key": "ticket",
                "label": _text("ticket"),
                "fields": [
                    {"key": "title", "type": "text", "label": _text("title")},
                    {"key": "assignee", "type": "user", "label": _text("assignee")},
                    {"key": "major", "type": "checkbox", "label": _text("major")},
                    {
                        "key": "measures",
                        "type": "sub_table",
                        "label": _text("measures"),
                        "fields": [
                            {"key": "what", "type": "text", "label": _text("what")},
                            {"key": "owner", "type": "user", "label": _text("owner")},
                        ],
                    },
                ],
            }
            flow = json.loads(
                json.dumps(TICKET_FLOW).replace('"users": [9]', f'"users": [{people[9]}]')
            )
            for kind, body in (("form", form), ("flow", flow)):
                metadata.create_definition(uow, system, "bench", kind, body)
                metadata.publish(uow, system, "bench", kind, body["key"])
            uow.commit()
        data = {
            "title": "noise",
            "assignee": people[5],
            "major": True,
            "measures": [
                {"what": "fix", "owner": people[5]},
                {"what": "test", "owner": people[6]},
            ],
        }

        def open_ids(uow: Any, instance_id: int) -> list[tuple[int, str]]:
            rows = uow.session.execute(
                select(Task.id, Task.kind).where(
                    Task.instance_id == instance_id, Task.status == "open"
                )
            )
            return [(int(i), str(k)) for i, k in rows]

        def one() -> int:
            with platform.unit_of_work() as uow:
                record = records.create_record(uow, system, "bench", "ticket", dict(data))
                instance = flows.start(
                    uow, settings, system, "bench", "ticket_handling", record.record.id
                )
                waiting = open_ids(uow, instance.id)
                uow.commit()
            steps = 1
            while waiting:
                task_id, kind = waiting.pop(0)
                with platform.unit_of_work() as uow:
                    action = "approve" if kind == "approval" else "submit"
                    flows.act(uow, settings, system, task_id, flows.TaskCommand(action))
                    waiting = open_ids(uow, instance.id)
                    uow.commit()
                steps += 1
            return steps

        one()
        rounds = []
        for _ in range(repeat):  # a shared machine is noisy: several rounds, the median counts
            start = time.perf_counter()
            steps = sum(one() for _ in range(instances))
            rounds.append((time.perf_counter() - start) / steps * 1000)
    shown = ", ".join(f"{r:.2f}" for r in rounds)
    print(
        f"\n(c) through the platform on SQLite: {instances} ticket flows a round, {steps} steps "
        f"(start + task commands, one transaction each), {repeat} rounds: "
        f"{statistics.median(rounds):.2f} ms per step (median; rounds {shown})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--platform", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="rounds through the platform")
    args = parser.parse_args()
    engine(args.instances)
    through_platform(args.platform, args.repeat)


if __name__ == "__main__":
    main()
