"""The token engine against the control-flow patterns (workflowpatterns.com) and approval practice.

Every step goes through :class:`Driver`, which saves the state as JSON and restores it before the
next command, and checks that the original and the restored state give the same result.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.flows import (
    CancelTimer,
    CarbonCopy,
    Command,
    Context,
    Escalate,
    FlowEnded,
    FlowError,
    Notify,
    Process,
    RunActions,
    ScheduleTimer,
    StartSubProcess,
    TaskClosed,
    TaskOpened,
    compile_process,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
INITIATOR = 1
GROUPS = {"managers": [10, 11, 12], "quality": [20]}
FIELDS = frozenset({"cost", "flag_a", "flag_b", "retry", "measures", "due", "owner"})


def resolve(rule: Mapping[str, Any], data: Mapping[str, Any], initiator: int | None) -> list[int]:
    ((kind, value),) = rule.items()
    if kind == "group":
        return GROUPS.get(value, [])
    if kind == "initiator_manager":
        return [100 + int(value)]
    if kind == "field":
        held = data.get(value)
        return [held] if isinstance(held, int) else []
    if kind == "managers_of":  # everybody's manager is 90 here
        return [90]
    return []


def node(node_id: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": type_, **extra}


def fill(node_id: str, *users: int, **extra: Any) -> dict[str, Any]:
    return node(node_id, "fill", assignees={"users": list(users)}, **extra)


def approval(node_id: str, *users: int, **extra: Any) -> dict[str, Any]:
    return node(node_id, "approval", assignees={"users": list(users)}, **extra)


def edge(source: str, target: str, **extra: Any) -> dict[str, Any]:
    return {"from": source, "to": target, **extra}


def chain(*ids: str) -> list[dict[str, Any]]:
    return [edge(a, b) for a, b in itertools.pairwise(ids)]


def process(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], **extra: Any) -> Process:
    definition = {"key": "p", "label": {"zh-CN": "p"}, "form": "f", "nodes": nodes, "edges": edges}
    return compile_process(
        definition | extra,
        fields=FIELDS,
        subtables={"measures": frozenset({"owner", "what", "acceptance"})},
        flows=frozenset({"child"}),
        forms=frozenset({"f"}),
    )


class Driver:
    """Runs an instance, saving and restoring its state around every command."""

    def __init__(
        self,
        p: Process,
        data: dict[str, Any] | None = None,
        *,
        able: Mapping[int, frozenset[str]] | None = None,
    ) -> None:
        self.p = p
        self.data = data or {}
        #: what each user may do on the record (``None``: everybody may do everything)
        self.able = able
        self.now = NOW
        self.state, self.effects = p.start(self.ctx(), initiator=INITIATOR)

    def ctx(self) -> Context:
        return Context(
            now=self.now,
            data=self.data,
            resolve=resolve,
            business=lambda at, minutes: at + timedelta(minutes=minutes * 2),
            can_act=None if self.able is None else self.can_act,
        )

    def can_act(self, user: int, need: str) -> bool:
        assert self.able is not None
        return need in self.able.get(user, frozenset())

    def do(self, action: str, task: str | None = None, **kw: Any) -> list[Any]:
        command = Command(action, task=task, **kw)
        saved = json.dumps(self.state)
        restored = json.loads(saved)
        assert restored == self.state
        state, effects = self.p.handle(self.state, command, self.ctx())
        again, again_effects = self.p.handle(restored, command, self.ctx())
        assert again == state
        assert again_effects == effects
        assert json.loads(saved) == restored  # handling never mutates the state it was given
        self.state, self.effects = state, effects
        return effects

    def tasks(self, node_id: str | None = None, status: str = "open") -> list[dict[str, Any]]:
        return [
            t
            for t in self.state["tasks"].values()
            if t["status"] == status and (node_id is None or t["node"] == node_id)
        ]

    def task(self, node_id: str, assignee: int | None = None) -> str:
        found = [t for t in self.tasks(node_id) if assignee is None or t["assignee"] == assignee]
        assert len(found) == 1, (node_id, assignee, self.tasks())
        return str(found[0]["id"])

    def submit(self, node_id: str, actor: int, **kw: Any) -> list[Any]:
        return self.do("submit", self.task(node_id, actor), actor=actor, **kw)

    def approve(self, node_id: str, actor: int, **kw: Any) -> list[Any]:
        return self.do("approve", self.task(node_id, actor), actor=actor, **kw)

    def reject(self, node_id: str, actor: int, **kw: Any) -> list[Any]:
        return self.do("reject", self.task(node_id, actor), actor=actor, **kw)

    @property
    def status(self) -> str:
        return str(self.state["status"])

    def open_nodes(self) -> list[str]:
        return sorted({t["node"] for t in self.tasks()})


S = node("start", "start")
E = node("end", "end")


# --- basic control flow ---------------------------------------------------------------------


def test_sequence() -> None:
    d = Driver(process([S, fill("a", 1), approval("b", 2), E], chain("start", "a", "b", "end")))
    assert d.open_nodes() == ["a"]
    assert d.effects[0] == TaskOpened(d.task("a"), "a", "fill", 1)
    d.submit("a", 1, opinion="filled")
    assert d.open_nodes() == ["b"]
    effects = d.approve("b", 2)
    assert d.status == "completed"
    assert FlowEnded("completed") in effects
    assert [h["action"] for h in d.state["history"]] == [
        "started",
        "submitted",
        "completed",
        "approved",
        "completed",
        "completed",
    ]
    assert d.state["history"][1]["opinion"] == "filled"


def test_parallel_split_and_synchronisation() -> None:
    d = Driver(
        process(
            [
                S,
                node("split", "parallel_split"),
                fill("a", 1),
                fill("b", 2),
                node("join", "parallel_join"),
                approval("c", 3),
                E,
            ],
            [
                edge("start", "split"),
                edge("split", "a"),
                edge("split", "b"),
                edge("a", "join"),
                edge("b", "join"),
                edge("join", "c"),
                edge("c", "end"),
            ],
        )
    )
    assert d.open_nodes() == ["a", "b"]
    d.submit("a", 1)
    assert d.open_nodes() == ["b"]  # the join waits for the other branch
    d.submit("b", 2)
    assert d.open_nodes() == ["c"]
    assert len(d.state["tokens"]) == 1
    d.approve("c", 3)
    assert d.status == "completed"


def exclusive_process() -> Process:
    return process(
        [S, node("x", "exclusive"), approval("big", 2), approval("small", 3), fill("merge", 1), E],
        [
            edge("start", "x"),
            edge("x", "big", condition={">": [{"var": "cost"}, 100]}),
            edge("x", "small", default=True),
            edge("big", "merge"),
            edge("small", "merge"),
            edge("merge", "end"),
        ],
    )


@pytest.mark.parametrize(("cost", "path"), [(500, "big"), (50, "small")])
def test_exclusive_choice_and_simple_merge(cost: int, path: str) -> None:
    d = Driver(exclusive_process(), {"cost": cost})
    assert d.open_nodes() == [path]
    d.approve(path, 2 if path == "big" else 3)
    assert d.open_nodes() == ["merge"]
    d.submit("merge", 1)
    assert d.status == "completed"


def inclusive_process() -> Process:
    return process(
        [
            S,
            node("or", "inclusive"),
            fill("a", 1),
            fill("b", 2),
            fill("c", 3),
            node("sync", "inclusive_join"),
            E,
        ],
        [
            edge("start", "or"),
            edge("or", "a", condition={"var": "flag_a"}),
            edge("or", "b", condition={"var": "flag_b"}),
            edge("or", "c", default=True),
            edge("a", "sync"),
            edge("b", "sync"),
            edge("c", "sync"),
            edge("sync", "end"),
        ],
    )


def test_multi_choice_and_structured_synchronising_merge() -> None:
    both = Driver(inclusive_process(), {"flag_a": True, "flag_b": True})
    assert both.open_nodes() == ["a", "b"]
    both.submit("a", 1)
    assert both.status == "running"  # waits for exactly the branches that ran
    both.submit("b", 2)
    assert both.status == "completed"
    one = Driver(inclusive_process(), {"flag_a": True})
    assert one.open_nodes() == ["a"]
    one.submit("a", 1)
    assert one.status == "completed"
    none = Driver(inclusive_process(), {})
    assert none.open_nodes() == ["c"]  # no condition held: the default edge


def test_arbitrary_cycles() -> None:
    d = Driver(
        process(
            [S, fill("work", 1), node("check", "exclusive"), E],
            [
                edge("start", "work"),
                edge("work", "check"),
                edge("check", "work", condition={"var": "retry"}),
                edge("check", "end", default=True),
            ],
        ),
        {"retry": True},
    )
    d.submit("work", 1)
    d.submit("work", 1)
    assert d.open_nodes() == ["work"]
    d.data = {"retry": False}
    d.submit("work", 1)
    assert d.status == "completed"
    assert sum(1 for h in d.state["history"] if h["action"] == "submitted") == 3


def test_a_split_inside_a_loop_keeps_its_generations_apart() -> None:
    d = Driver(
        process(
            [
                S,
                node("split", "parallel_split"),
                fill("a", 1),
                fill("b", 2),
                node("join", "parallel_join"),
                node("again", "exclusive"),
                E,
            ],
            [
                edge("start", "split"),
                edge("split", "a"),
                edge("split", "b"),
                edge("a", "join"),
                edge("b", "join"),
                edge("join", "again"),
                edge("again", "split", condition={"var": "retry"}),
                edge("again", "end", default=True),
            ],
        ),
        {"retry": True},
    )
    d.submit("a", 1)
    d.submit("b", 2)
    assert d.open_nodes() == ["a", "b"]  # the second round
    d.data = {}
    d.submit("b", 2)
    assert d.status == "running"
    d.submit("a", 1)
    assert d.status == "completed"


def test_implicit_termination_waits_for_every_branch() -> None:
    d = Driver(
        process(
            [
                S,
                node("split", "parallel_split"),
                fill("a", 1),
                fill("b", 2),
                E,
                node("end_b", "end"),
            ],
            [
                edge("start", "split"),
                edge("split", "a"),
                edge("split", "b"),
                edge("a", "end"),
                edge("b", "end_b"),
            ],
        )
    )
    d.submit("a", 1)
    assert d.status == "running"
    d.submit("b", 2)
    assert d.status == "completed"


def test_explicit_termination_cancels_the_other_branches() -> None:
    d = Driver(
        process(
            [
                S,
                node("split", "parallel_split"),
                fill("a", 1),
                fill("b", 2),
                node("stop", "terminate_end"),
                E,
            ],
            [
                edge("start", "split"),
                edge("split", "a"),
                edge("split", "b"),
                edge("a", "stop"),
                edge("b", "end"),
            ],
        )
    )
    effects = d.submit("a", 1)
    assert d.status == "terminated"
    assert d.tasks() == []
    assert FlowEnded("terminated") in effects
    assert d.tasks("b", status="cancelled")


# --- the discriminator (1-of-N and N-of-M joins) ------------------------------------------------


def discriminator(wait: int, remaining: str = "ignore", *, loop: bool = False) -> Process:
    """A split into ``a``, ``b`` and ``c`` (a task, a task, a timer before a task) joined by a
    join that waits for ``wait`` of them; then ``d``, or (``loop``) the split again."""
    join = node("join", "parallel_join", wait=wait, remaining=remaining)
    after = [node("again", "exclusive")] if loop else [approval("d", 4)]
    tail = (
        [
            edge("join", "again"),
            edge("again", "split", condition={"var": "retry"}),
            edge("again", "end", default=True),
        ]
        if loop
        else [edge("join", "d"), edge("d", "end")]
    )
    return process(
        [
            S,
            node("split", "parallel_split"),
            fill("a", 1),
            fill("b", 2),
            node("pause", "timer", minutes=30),
            fill("c", 3),
            join,
            *after,
            E,
        ],
        [
            edge("start", "split"),
            edge("split", "a"),
            edge("split", "b"),
            edge("split", "pause"),
            edge("pause", "c"),
            edge("a", "join"),
            edge("b", "join"),
            edge("c", "join"),
            *tail,
        ],
    )


def test_discriminator_fires_on_the_first_branch_and_consumes_the_others() -> None:
    d = Driver(discriminator(1))
    (pause,) = [e for e in d.effects if isinstance(e, ScheduleTimer)]
    d.submit("b", 2)
    assert d.open_nodes() == ["a", "d"]  # fired once; the other branches run on
    joined = [h for h in d.state["history"] if h["action"] == "joined"]
    assert [(h["branches"], h["of"]) for h in joined] == [(1, 3)]
    d.approve("d", 4)
    assert d.status == "running"  # two branches are still out
    d.submit("a", 1)
    assert d.state["history"][-1]["action"] == "branch_ignored"
    assert d.open_nodes() == []  # a late branch never fires the join again
    d.do("timer_fired", timer=pause.timer)
    d.submit("c", 3)
    assert d.status == "completed"  # the last branch in completes the instance
    assert [h["action"] for h in d.state["history"]].count("joined") == 1


def test_an_n_of_m_join_waits_for_n_branches() -> None:
    d = Driver(discriminator(2))
    d.submit("a", 1)
    assert d.open_nodes() == ["b"]
    d.submit("b", 2)
    assert d.open_nodes() == ["d"]
    assert d.state["joins"] != {}  # the timer's branch is still expected


def test_cancelling_discriminator_cancels_the_other_branches_tasks_and_timers() -> None:
    d = Driver(discriminator(1, "cancel"))
    (pause,) = [e for e in d.effects if isinstance(e, ScheduleTimer)]
    a = d.task("a")
    effects = d.submit("b", 2)
    assert d.open_nodes() == ["d"]
    assert CancelTimer(pause.timer) in effects
    assert d.state["tasks"][a]["status"] == "cancelled"
    assert TaskClosed(a, "a", "cancelled") in effects
    cancelled = [h for h in d.state["history"] if h["action"] == "branch_cancelled"]
    assert [(h["node"], h["by"], h.get("tasks")) for h in cancelled] == [
        ("a", "join", [a]),
        ("pause", "join", None),
    ]
    assert d.state["joins"] == {}
    assert len(d.state["tokens"]) == 1
    assert d.do("timer_fired", timer=pause.timer) == []  # cancelled: nothing is due
    d.approve("d", 4)
    assert d.status == "completed"


@pytest.mark.parametrize("remaining", ["ignore", "cancel"])
def test_a_discriminator_inside_a_loop_keeps_its_generations_apart(remaining: str) -> None:
    d = Driver(discriminator(1, remaining, loop=True), {"retry": True})
    (first_pause,) = [e for e in d.effects if isinstance(e, ScheduleTimer)]
    d.submit("a", 1)  # fires the first round's join: the split runs again
    b_tasks = d.tasks("b")
    if remaining == "ignore":
        assert [t["assignee"] for t in b_tasks] == [2, 2]  # the first round's b runs on
        assert d.open_nodes() == ["a", "b"]
        d.do("submit", b_tasks[0]["id"], actor=2)  # late for round one: consumed there
        assert d.state["history"][-1]["action"] == "branch_ignored"
        d.do("timer_fired", timer=first_pause.timer)
        d.submit("c", 3)  # round one's last branch: consumed too
        assert d.state["history"][-1]["action"] == "branch_ignored"
        assert d.open_nodes() == ["a", "b"]  # round two waits as it did
    else:
        assert len(b_tasks) == 1  # the first round's b was cancelled
        assert d.do("timer_fired", timer=first_pause.timer) == []
    d.data = {}
    d.submit("b", 2)  # round two fires: this time out of the loop
    assert [h["action"] for h in d.state["history"]].count("joined") == 2
    if remaining == "ignore":
        assert d.status == "running"  # round two's a and its timer's c are still out
        d.submit("a", 1)
        (second_pause,) = [t for t in d.state["timers"] if t != first_pause.timer]
        d.do("timer_fired", timer=second_pause)
        d.submit("c", 3)
    assert d.status == "completed"
    assert d.state["joins"] == {}


def test_an_inclusive_join_waits_for_at_most_the_branches_that_ran() -> None:
    p = process(
        [
            S,
            node("or", "inclusive"),
            fill("a", 1),
            fill("b", 2),
            fill("c", 3),
            node("sync", "inclusive_join", wait=2),
            approval("d", 4),
            E,
        ],
        [
            edge("start", "or"),
            edge("or", "a", condition={"var": "flag_a"}),
            edge("or", "b", condition={"var": "flag_b"}),
            edge("or", "c", default=True),
            edge("a", "sync"),
            edge("b", "sync"),
            edge("c", "sync"),
            edge("sync", "d"),
            edge("d", "end"),
        ],
    )
    one = Driver(p, {"flag_a": True})
    one.submit("a", 1)  # one branch ran: waiting for two cannot mean waiting forever
    assert one.open_nodes() == ["d"]
    both = Driver(p, {"flag_a": True, "flag_b": True})
    both.submit("b", 2)
    assert both.open_nodes() == ["a"]
    both.submit("a", 1)
    assert both.open_nodes() == ["d"]


# --- multiple instances -----------------------------------------------------------------------


def test_multiple_instances_with_design_time_knowledge() -> None:
    d = Driver(
        process([S, approval("sign", 1, 2, 3, mode="all"), E], chain("start", "sign", "end"))
    )
    assert len(d.tasks("sign")) == 3
    d.approve("sign", 1)
    d.approve("sign", 3)
    assert d.status == "running"
    d.approve("sign", 2)
    assert d.status == "completed"


def measures_process(mode: str = "parallel", **multi: Any) -> Process:
    return process(
        [
            S,
            node(
                "execute",
                "fill",
                multi={"over": "measures", "assignee_field": "owner", "mode": mode, **multi},
            ),
            E,
        ],
        chain("start", "execute", "end"),
    )


def test_multiple_instances_with_run_time_knowledge() -> None:
    rows = [{"owner": 5, "what": "fix"}, {"owner": 6, "what": "test"}, {"owner": 5, "what": "doc"}]
    d = Driver(measures_process(), {"measures": rows})
    tasks = d.tasks("execute")
    assert [(t["assignee"], t["row"]) for t in tasks] == [(5, 0), (6, 1), (5, 2)]
    for t in tasks:
        d.do("submit", t["id"], actor=t["assignee"])
    assert d.status == "completed"
    sequential = Driver(measures_process("sequential"), {"measures": rows})
    assert [t["row"] for t in sequential.tasks("execute")] == [0]
    sequential.do("submit", sequential.tasks("execute")[0]["id"], actor=5)
    assert [t["row"] for t in sequential.tasks("execute")] == [1]
    empty = Driver(measures_process(), {"measures": []})
    assert empty.status == "completed"  # no rows: the node is skipped, and says so
    assert empty.state["history"][1]["action"] == "skipped"


def test_multiple_instances_with_a_completion_condition() -> None:
    rows = [{"owner": n} for n in (5, 6, 7)]
    d = Driver(measures_process(completion={">=": [{"var": "done"}, 2]}), {"measures": rows})
    d.do("submit", d.task("execute", 5), actor=5)
    d.do("submit", d.task("execute", 7), actor=7)
    assert d.status == "completed"
    assert d.tasks("execute", status="cancelled")[0]["assignee"] == 6


AGAIN = {"!=": [{"var": "acceptance"}, "pass"]}
ACCEPTED = [
    {"owner": 5, "what": "fix", "acceptance": "pass"},
    {"owner": 6, "what": "test", "acceptance": "fail"},
    {"owner": 7, "what": "doc"},
]


def test_multiple_instances_over_the_rows_a_condition_selects() -> None:
    d = Driver(measures_process(where=AGAIN), {"measures": ACCEPTED})
    tasks = d.tasks("execute")
    assert [(t["assignee"], t["row"]) for t in tasks] == [(6, 1), (7, 2)]  # not the passed one
    for t in tasks:
        d.do("submit", t["id"], actor=t["assignee"])
    assert d.status == "completed"
    sequential = Driver(measures_process("sequential", where=AGAIN), {"measures": ACCEPTED})
    assert [t["row"] for t in sequential.tasks("execute")] == [1]
    sequential.do("submit", sequential.task("execute"), actor=6)
    assert [t["row"] for t in sequential.tasks("execute")] == [2]


def test_a_row_condition_reads_the_record_and_skips_the_node_when_no_row_is_selected() -> None:
    costly = {"and": [AGAIN, {">": [{"var": "$record.cost"}, 100]}]}
    d = Driver(measures_process(where=costly), {"measures": ACCEPTED, "cost": 500})
    assert [t["row"] for t in d.tasks("execute")] == [1, 2]
    cheap = Driver(measures_process(where=costly), {"measures": ACCEPTED, "cost": 50})
    assert cheap.status == "completed"
    skipped = cheap.state["history"][1]
    assert (skipped["action"], skipped["reason"]) == (
        "skipped",
        "no row of measures meets the node's where condition",
    )
    passed = [{**row, "acceptance": "pass"} for row in ACCEPTED]
    assert Driver(measures_process(where=AGAIN), {"measures": passed}).status == "completed"


def test_a_row_condition_that_cannot_be_evaluated_is_a_clear_error() -> None:
    p = measures_process(where={"<": [{"date_diff": [{"var": "what"}, "2026-01-01", "days"]}, 1]})
    with pytest.raises(FlowError) as caught:
        Driver(p, {"measures": ACCEPTED})
    assert caught.value.code == "flow.multi"
    assert "row 1 of 'measures'" in caught.value.message


# --- multiple instances of a sub-process -------------------------------------------------------

ROWS = [{"owner": 5, "what": "fix"}, {"owner": 6, "what": "test"}]
PER_ROW = {
    "form": "f",
    "values": {
        "what": {"expr": {"var": "$row.what"}},
        "owner": {"expr": {"var": "$row.owner"}},
        "cost": {"expr": {"var": "cost"}},
        "source": "fan",
    },
}


def children_process(record: dict[str, Any] | None = None, **multi: Any) -> Process:
    fan = node("fan", "sub_process", flow="child", record=record or PER_ROW)
    return process(
        [S, fan | {"multi": {"over": "measures", **multi}}, approval("after", 4), E],
        chain("start", "fan", "after", "end"),
    )


def starts_of(effects: list[Any]) -> list[StartSubProcess]:
    return [e for e in effects if isinstance(e, StartSubProcess)]


def test_multiple_instances_of_a_sub_process_with_synchronisation() -> None:
    d = Driver(children_process(wait=True), {"measures": ROWS, "cost": 9})
    starts = starts_of(d.effects)
    assert [(s.row, s.record) for s in starts] == [
        (0, {"form": "f", "values": {"what": "fix", "owner": 5, "cost": 9, "source": "fan"}}),
        (1, {"form": "f", "values": {"what": "test", "owner": 6, "cost": 9, "source": "fan"}}),
    ]
    assert all(s.wait for s in starts)
    assert len({s.reports_as for s in starts}) == 2  # each child reports back as itself
    d.do("subprocess_done", token=starts[1].reports_as)
    assert (d.status, d.open_nodes()) == ("running", [])  # one child is still running
    d.do("subprocess_done", token=starts[0].reports_as)
    assert d.open_nodes() == ["after"]
    done = [h for h in d.state["history"] if h["action"] == "sub_process_done"]
    assert [(h["child"], h["left"]) for h in done] == [
        (starts[1].reports_as, 1),
        (starts[0].reports_as, 0),
    ]
    d.approve("after", 4)
    assert d.status == "completed"


def test_multiple_instances_of_a_sub_process_without_synchronisation() -> None:
    d = Driver(children_process(wait=False), {"measures": ROWS})
    starts = starts_of(d.effects)
    assert [s.record["values"]["owner"] for s in starts] == [5, 6]
    assert not any(s.wait for s in starts)
    assert d.open_nodes() == ["after"]  # on at once: the children run on by themselves
    d.approve("after", 4)
    assert d.status == "completed"


def test_a_sub_process_per_selected_row_on_the_records_the_rows_name() -> None:
    rows = [{"owner": 5, "what": 41}, {"owner": 6, "what": 42}, {"owner": 7, "what": 43}]
    p = children_process({"field": "what"}, where={"!=": [{"var": "owner"}, 6]})
    d = Driver(p, {"measures": rows})
    assert [(s.row, s.record) for s in starts_of(d.effects)] == [(0, {"id": 41}), (2, {"id": 43})]
    d.do("subprocess_done", token=starts_of(d.effects)[0].reports_as)
    assert d.open_nodes() == []
    none = Driver(p, {"measures": [{"owner": 6, "what": 42}]})
    assert none.open_nodes() == ["after"]  # no row selected: no child, the node is skipped
    assert none.state["history"][1]["action"] == "skipped"
    with pytest.raises(FlowError) as caught:
        Driver(p, {"measures": [{"owner": 5, "what": "not a record"}]})
    assert caught.value.code == "flow.sub_process"
    assert "row 1" in caught.value.message


def test_a_child_whose_branch_was_cancelled_reports_back_to_nobody() -> None:
    fan = node("fan", "sub_process", flow="child", record=PER_ROW, multi={"over": "measures"})
    p = process(
        [
            S,
            node("split", "parallel_split"),
            fill("a", 1),
            fan,
            node("join", "parallel_join", wait=1, remaining="cancel"),
            approval("after", 4),
            E,
        ],
        [
            edge("start", "split"),
            edge("split", "a"),
            edge("split", "fan"),
            edge("a", "join"),
            edge("fan", "join"),
            edge("join", "after"),
            edge("after", "end"),
        ],
    )
    d = Driver(p, {"measures": ROWS})
    (first, _second) = starts_of(d.effects)
    d.submit("a", 1)
    assert d.state["history"][-1]["action"] == "branch_cancelled"
    history = list(d.state["history"])
    assert d.do("subprocess_done", token=first.reports_as) == []  # the child ran on; its end
    assert d.state["history"] == history  # changes nothing
    assert d.open_nodes() == ["after"]


# --- approvals --------------------------------------------------------------------------------


def review_process(mode: str, **extra: Any) -> Process:
    return process(
        [S, fill("plan", 1), approval("review", 2, 3, 4, mode=mode, **extra), E],
        chain("start", "plan", "review", "end"),
    )


def test_countersign_where_one_rejects_goes_back_and_cancels_the_rest() -> None:
    d = Driver(review_process("all"))
    d.submit("plan", 1)
    d.approve("review", 2)
    effects = d.reject("review", 3, opinion="cost too high")
    assert d.open_nodes() == ["plan"]
    assert d.tasks("review", status="cancelled")[0]["assignee"] == 4
    assert any(getattr(e, "outcome", None) == "cancelled" for e in effects)
    assert d.state["history"][-1] == {
        "at": NOW.isoformat(),
        "node": "review",
        "actor": 3,
        "action": "sent_back",
        "target": "plan",
    }


def test_any_of_where_two_approve_at_once_acts_once() -> None:
    d = Driver(review_process("any"))
    d.submit("plan", 1)
    first, second = d.task("review", 2), d.task("review", 3)
    before = d.state
    d.do("approve", first, actor=2)
    assert d.status == "completed"
    # the second approver's command was based on the same state: against the new one it is late
    with pytest.raises(FlowError) as caught:
        d.do("approve", second, actor=3)
    assert caught.value.code == "task.conflict"
    # and the same task twice from the same state: the second gets the conflict too
    with pytest.raises(FlowError):
        d.p.handle(
            d.p.handle(before, Command("approve", task=first, actor=2), d.ctx())[0],
            Command("approve", task=first, actor=2),
            d.ctx(),
        )


def test_sequential_and_percentage_approvals() -> None:
    d = Driver(review_process("sequential"))
    d.submit("plan", 1)
    assert [t["assignee"] for t in d.tasks("review")] == [2]
    d.approve("review", 2)
    assert [t["assignee"] for t in d.tasks("review")] == [3]
    d.approve("review", 3)
    d.approve("review", 4)
    assert d.status == "completed"
    p = Driver(review_process("percentage", percent=60))
    p.submit("plan", 1)
    p.reject("review", 2)
    assert p.status == "running"
    assert p.open_nodes() == ["review"]
    p.approve("review", 3)
    p.approve("review", 4)
    assert p.status == "completed"
    q = Driver(review_process("percentage", percent=60))
    q.submit("plan", 1)
    q.reject("review", 2)
    q.reject("review", 3)
    assert q.open_nodes() == ["plan"]  # 60 % is out of reach


def test_single_approval_goes_to_the_first_assignee_only() -> None:
    d = Driver(review_process("single"))
    d.submit("plan", 1)
    assert [t["assignee"] for t in d.tasks("review")] == [2]


def test_only_the_assignee_or_an_admin_acts_and_actions_fit_the_node() -> None:
    d = Driver(review_process("single"))
    plan = d.task("plan", 1)
    with pytest.raises(FlowError) as caught:
        d.do("submit", plan, actor=99)
    assert caught.value.code == "task.forbidden"
    with pytest.raises(FlowError) as caught:
        d.do("approve", plan, actor=1)
    assert caught.value.code == "task.action"
    d.do("submit", plan, actor=99, admin=True)
    with pytest.raises(FlowError) as caught:
        d.do("reject", d.task("review"), actor=2, target="nowhere")
    assert caught.value.code == "flow.reject_target"
    with pytest.raises(FlowError):
        d.do("fly", d.task("review"), actor=2)


def test_reject_to_previous_inside_a_parallel_branch_leaves_the_other_branch() -> None:
    d = Driver(
        process(
            [
                S,
                node("split", "parallel_split"),
                fill("a1", 1),
                approval("a2", 2),
                fill("b1", 3),
                node("join", "parallel_join"),
                E,
            ],
            [
                edge("start", "split"),
                edge("split", "a1"),
                edge("a1", "a2"),
                edge("a2", "join"),
                edge("split", "b1"),
                edge("b1", "join"),
                edge("join", "end"),
            ],
        )
    )
    d.submit("a1", 1)
    d.reject("a2", 2)
    assert d.open_nodes() == ["a1", "b1"]
    d.submit("b1", 3)
    d.submit("a1", 1)
    d.approve("a2", 2)
    assert d.status == "completed"


def test_reject_to_start_before_a_split_abandons_every_branch() -> None:
    d = Driver(
        process(
            [
                S,
                fill("plan", 1),
                node("split", "parallel_split"),
                approval("x", 2, reject_to=["start"]),
                fill("y", 3),
                node("join", "parallel_join"),
                E,
            ],
            [
                edge("start", "plan"),
                edge("plan", "split"),
                edge("split", "x"),
                edge("split", "y"),
                edge("x", "join"),
                edge("y", "join"),
                edge("join", "end"),
            ],
        )
    )
    d.submit("plan", 1)
    d.reject("x", 2)
    assert d.open_nodes() == ["start"]  # the initiator revises
    assert d.tasks("y", status="cancelled")
    assert len(d.state["tokens"]) == 1
    d.submit("start", INITIATOR)
    assert d.open_nodes() == ["plan"]


@pytest.mark.parametrize(("policy", "after_resubmit"), [("direct", ["m2"]), ("rerun", ["m1"])])
def test_return_semantics_direct_or_rerun(policy: str, after_resubmit: list[str]) -> None:
    d = Driver(
        process(
            [
                S,
                fill("f", 1),
                approval("m1", 2),
                approval("m2", 3, reject_to=["f", "previous"], after_return=policy),
                E,
            ],
            chain("start", "f", "m1", "m2", "end"),
        )
    )
    d.submit("f", 1)
    d.approve("m1", 2)
    d.do("reject", d.task("m2", 3), actor=3, target="f", opinion="redo the costs")
    assert d.open_nodes() == ["f"]
    d.submit("f", 1)
    assert d.open_nodes() == after_resubmit
    actions = [h["action"] for h in d.state["history"]]
    assert "sent_back" in actions  # every return is in the history


def test_timeout_auto_approval_fired_by_the_timer() -> None:
    d = Driver(review_process("single", timeout={"minutes": 60, "action": "approve"}))
    d.submit("plan", 1)
    (timer,) = [e for e in d.effects if isinstance(e, ScheduleTimer)]
    assert timer.at == NOW + timedelta(minutes=60)
    d.now = timer.at
    d.do("timer_fired", timer=timer.timer)
    assert d.status == "completed"
    assert d.state["history"][-3]["action"] == "approved"
    assert d.do("comment", opinion="after the fact") == []
    # a timer that fires after its task was handled does nothing
    d2 = Driver(review_process("single", timeout={"minutes": 60, "action": "approve"}))
    d2.submit("plan", 1)
    (timer2,) = [e for e in d2.effects if isinstance(e, ScheduleTimer)]
    effects = d2.approve("review", 2)
    assert CancelTimer(timer2.timer) in effects
    state = d2.state
    assert d2.p.handle(state, Command("comment", opinion="x"), d2.ctx())[1] == []


def test_business_time_timeouts_remind_and_escalate() -> None:
    d = Driver(
        review_process("single", timeout={"minutes": 30, "business": True, "action": "remind"})
    )
    d.submit("plan", 1)
    (timer,) = [e for e in d.effects if isinstance(e, ScheduleTimer)]
    assert timer.at == NOW + timedelta(minutes=60)  # the context's business clock runs slower
    task = d.task("review")
    assert d.do("timer_fired", timer=timer.timer) == [Notify((2,), "reminder", "review", task)]
    e = Driver(review_process("single", timeout={"minutes": 30, "action": "escalate"}))
    e.submit("plan", 1)
    (timer,) = [x for x in e.effects if isinstance(x, ScheduleTimer)]
    assert e.do("timer_fired", timer=timer.timer) == [Escalate(e.task("review"), "review", 2)]


def test_deferred_choice_timer_or_task_race() -> None:
    def race() -> Driver:
        return Driver(
            process(
                [
                    S,
                    fill("answer", 1, timeout={"minutes": 10, "action": "goto", "node": "chase"}),
                    fill("chase", 9),
                    E,
                    node("end2", "end"),
                ],
                [edge("start", "answer"), edge("answer", "end"), edge("chase", "end2")],
            )
        )

    timer_wins = race()
    (timer,) = [e for e in timer_wins.effects if isinstance(e, ScheduleTimer)]
    timer_wins.do("timer_fired", timer=timer.timer)
    assert timer_wins.open_nodes() == ["chase"]
    assert timer_wins.tasks("answer", status="cancelled")
    task_wins = race()
    task_wins.submit("answer", 1)
    assert task_wins.status == "completed"
    assert task_wins.do("comment", opinion="late timer") == []


def test_cancel_task_and_cancel_case() -> None:
    d = Driver(review_process("all"))
    d.submit("plan", 1)
    with pytest.raises(FlowError) as caught:
        d.do("cancel_task", d.task("review", 2), actor=2)
    assert caught.value.code == "task.forbidden"
    d.do("cancel_task", d.task("review", 2), actor=50, admin=True)
    d.approve("review", 3)
    d.approve("review", 4)
    assert d.status == "completed"
    c = Driver(review_process("all"))
    c.submit("plan", 1)
    effects = c.do("cancel", actor=INITIATOR, opinion="duplicate")
    assert c.status == "cancelled"
    assert c.tasks() == []
    assert FlowEnded("cancelled") in effects
    with pytest.raises(FlowError) as caught:
        c.do("urge", actor=INITIATOR)
    assert caught.value.code == "flow.conflict"


# --- cancel task (WCP-19) -----------------------------------------------------------------------


def cancel(d: Driver, task: str, opinion: str = "withdrawn by the office") -> list[Any]:
    return d.do("cancel_task", task, actor=50, admin=True, opinion=opinion)


def test_cancelling_the_last_open_task_of_a_countersign_completes_the_node() -> None:
    d = Driver(review_process("all"))
    d.submit("plan", 1)
    d.approve("review", 2)
    d.approve("review", 3)
    last = d.task("review", 4)
    effects = cancel(d, last, "on leave")
    assert TaskClosed(last, "review", "cancelled") in effects
    assert d.status == "completed"  # what was left (two approvals) is all of the countersign
    task = d.state["tasks"][last]
    assert (task["status"], task["actor"], task["opinion"]) == ("cancelled", 50, "on leave")
    entry = next(h for h in d.state["history"] if h["action"] == "task_cancelled")
    assert (entry["actor"], entry["task"], entry["opinion"]) == (50, last, "on leave")
    with pytest.raises(FlowError) as caught:  # a task is cancelled once
        d.p.handle(d.state, Command("cancel_task", task=last, actor=50, admin=True), d.ctx())
    assert caught.value.code in ("task.conflict", "flow.conflict")


def test_a_cancelled_task_of_a_single_task_node_lets_the_flow_move_on_without_its_effect() -> None:
    d = Driver(review_process("single"))
    d.submit("plan", 1)
    cancel(d, d.task("review", 2))
    assert d.status == "completed"
    actions = [h["action"] for h in d.state["history"]]
    assert actions[-3:] == ["task_cancelled", "completed", "completed"]
    assert "approved" not in actions  # neither approved nor rejected


def test_cancelling_a_task_of_a_sequence_opens_the_next_one() -> None:
    d = Driver(review_process("sequential"))
    d.submit("plan", 1)
    cancel(d, d.task("review", 2))
    assert [t["assignee"] for t in d.tasks("review")] == [3]
    d.approve("review", 3)
    cancel(d, d.task("review", 4))
    assert d.status == "completed"


def test_any_of_waits_for_the_others_until_every_task_is_cancelled() -> None:
    d = Driver(review_process("any"))
    d.submit("plan", 1)
    cancel(d, d.task("review", 2))
    assert [t["assignee"] for t in d.tasks("review")] == [3, 4]
    cancel(d, d.task("review", 3))
    cancel(d, d.task("review", 4))
    assert d.status == "completed"


def test_a_percentage_a_cancellation_puts_out_of_reach_is_sent_back() -> None:
    d = Driver(review_process("percentage", percent=60))
    d.submit("plan", 1)
    d.reject("review", 2)  # one of three: 60 % can still be reached
    cancel(d, d.task("review", 3))  # one of two left: it cannot any more
    assert d.open_nodes() == ["plan"]
    assert [h["action"] for h in d.state["history"]][-2:] == ["out_of_reach", "sent_back"]
    assert d.tasks("review") == []
    e = Driver(review_process("percentage", percent=60))
    e.submit("plan", 1)
    e.approve("review", 2)
    cancel(e, e.task("review", 3))  # one of two approved: 50 %, the last decides
    assert e.open_nodes() == ["review"]
    e.approve("review", 4)
    assert e.status == "completed"


def test_cancelling_a_task_of_a_row_leaves_the_rows_completion_to_the_others() -> None:
    rows = [{"owner": n} for n in (5, 6, 7)]
    d = Driver(measures_process(completion={">=": [{"var": "done"}, 2]}), {"measures": rows})
    cancel(d, d.task("execute", 6))
    d.do("submit", d.task("execute", 5), actor=5)
    assert d.status == "running"  # the cancelled row counts as neither done nor failed
    d.do("submit", d.task("execute", 7), actor=7)
    assert d.status == "completed"


def test_cancelling_added_signers_or_the_task_they_were_added_to() -> None:
    d = Driver(review_process("single"))
    d.submit("plan", 1)
    d.do("add_signer", d.task("review", 2), actor=2, user=30, position="before")
    cancel(d, d.task("review", 30))
    assert [t["assignee"] for t in d.tasks("review")] == [2]  # the holder has it back
    d.do("add_signer", d.task("review", 2), actor=2, user=31, position="after")
    cancel(d, d.task("review", 2))  # the signer added after it goes with it
    assert sorted(t["assignee"] for t in d.tasks("review", status="cancelled")) == [2, 30, 31]
    assert d.status == "completed"


# --- people --------------------------------------------------------------------------------------


def test_transfer_delegate_and_add_signers() -> None:
    d = Driver(review_process("single"))
    d.submit("plan", 1)
    d.do("transfer", d.task("review", 2), actor=2, user=7)
    d.do("delegate", d.task("review", 7), actor=7, user=8)
    d.do("approve", d.task("review", 8), actor=8, opinion="looks fine")  # the delegate resolves
    assert [t["assignee"] for t in d.tasks("review")] == [7]  # back to the owner
    d.do("add_signer", d.task("review", 7), actor=7, user=30, position="before")
    assert [t["assignee"] for t in d.tasks("review")] == [30]
    d.approve("review", 30)
    assert [t["assignee"] for t in d.tasks("review")] == [7]
    d.do("add_signer", d.task("review", 7), actor=7, user=31, position="after")
    d.approve("review", 7)
    assert d.status == "running"
    assert [t["assignee"] for t in d.tasks("review")] == [31]
    d.approve("review", 31)
    assert d.status == "completed"
    actions = [h["action"] for h in d.state["history"]]
    for expected in (
        "transferred",
        "delegated",
        "resolved",
        "signer_added_before",
        "signer_added_after",
    ):
        assert expected in actions


def test_withdraw_while_the_next_node_is_untouched() -> None:
    d = Driver(review_process("all"))
    d.submit("plan", 1)
    d.do("withdraw", actor=INITIATOR)
    assert d.open_nodes() == ["plan"]
    assert len(d.tasks("review", status="cancelled")) == 3
    d.submit("plan", 1)
    d.approve("review", 2)
    with pytest.raises(FlowError) as caught:
        d.do("withdraw", actor=INITIATOR)
    assert caught.value.code == "flow.withdraw_conflict"
    with pytest.raises(FlowError):
        d.do("withdraw", actor=3)


def test_urge_comment_and_assignee_rules() -> None:
    p = process(
        [
            S,
            node(
                "review",
                "approval",
                assignees=[{"group": "managers"}, {"initiator_manager": 2}],
                mode="any",
            ),
            node("qa", "approval", assignees={"previous_actor": True}),
            node("owner", "fill", assignees={"field": "owner"}),
            node("nobody", "fill", assignees={"group": "ghosts"}, fallback={"group": "quality"}),
            E,
        ],
        chain("start", "review", "qa", "owner", "nobody", "end"),
    )
    d = Driver(p, {"owner": 77})
    assert sorted(t["assignee"] for t in d.tasks("review")) == [10, 11, 12, 102]
    effects = d.do("urge", actor=INITIATOR)
    assert {e.users for e in effects if isinstance(e, Notify)} == {(10,), (11,), (12,), (102,)}
    d.do("comment", actor=11, opinion="see the attachment", attachments=(5,))
    assert d.state["history"][-1]["attachments"] == [5]
    d.approve("review", 11)
    assert [t["assignee"] for t in d.tasks("qa")] == [11]
    d.approve("qa", 11)
    d.submit("owner", 77)
    assert [t["assignee"] for t in d.tasks("nobody")] == [20]  # the fallback, never skipped


def test_nobody_found_and_no_fallback_goes_to_the_manager() -> None:
    d = Driver(
        process(
            [S, node("x", "fill", assignees={"group": "ghosts"}), E], chain("start", "x", "end")
        )
    )
    assert d.effects[0] == TaskOpened(d.task("x"), "x", "fill", 90)
    d.do("submit", d.task("x"), actor=90)
    assert d.status == "completed"


READS = frozenset({"read"})
WRITES = frozenset({"read", "update"})


def test_tasks_go_only_to_people_who_may_act() -> None:
    p = process(
        [
            S,
            approval("review", 5, 6, mode="all"),
            fill("edit", 5, 6, permissions={"cost": "editable"}, fallback={"group": "quality"}),
            fill("none", 7, fallback={"users": [8]}),
            E,
        ],
        chain("start", "review", "edit", "none", "end"),
    )
    able = {5: READS, 6: WRITES, 20: WRITES, 90: WRITES}
    d = Driver(p, able=able)
    assert [t["assignee"] for t in d.tasks("review")] == [5, 6]  # approving takes reading
    d.approve("review", 5)
    d.approve("review", 6)
    assert [t["assignee"] for t in d.tasks("edit")] == [6]  # editing takes the update grant
    skipped = [h for h in d.state["history"] if h["action"] == "not_eligible"]
    assert (skipped[-1]["users"], skipped[-1]["need"]) == ([5], "update")
    d.submit("edit", 6)
    # neither the assignee (7) nor the fallback (8) may act: the manager gets it
    assert [t["assignee"] for t in d.tasks("none")] == [90]
    with pytest.raises(FlowError) as caught:  # a task is never handed to someone who cannot act
        d.do("transfer", d.task("none", 90), actor=90, user=7)
    assert caught.value.code == "task.user"
    with pytest.raises(FlowError):
        d.do("delegate", d.task("none", 90), actor=90, user=8)
    d.do("transfer", d.task("none", 90), actor=90, user=20)
    assert [t["assignee"] for t in d.tasks("none")] == [20]


def test_a_task_nobody_may_act_on_is_left_unassigned_for_the_administrators() -> None:
    p = process([S, fill("x", 7, fallback={"users": [8]}), E], chain("start", "x", "end"))
    d = Driver(p, able={})
    assert d.effects[-1] == TaskOpened(d.task("x"), "x", "fill", None)
    d.do("submit", d.task("x"), actor=1, admin=True)
    assert d.status == "completed"


def test_rows_whose_owner_may_not_act_go_to_the_fallback_or_the_owners_manager() -> None:
    rows = [{"owner": 5}, {"owner": 6}, {"owner": 7}]
    d = Driver(measures_process(), {"measures": rows}, able={5: READS, 6: READS, 90: READS})
    assert [(t["assignee"], t["row"]) for t in d.tasks("execute")] == [(5, 0), (6, 1), (90, 2)]
    with_fallback = process(
        [
            S,
            node(
                "execute",
                "fill",
                multi={"over": "measures", "assignee_field": "owner"},
                fallback={"group": "quality"},
            ),
            E,
        ],
        chain("start", "execute", "end"),
    )
    d = Driver(with_fallback, {"measures": rows}, able={5: READS, 20: READS})
    assert [t["assignee"] for t in d.tasks("execute")] == [5, 20, 20]


def test_carbon_copies_reach_only_readers() -> None:
    p = process([S, node("cc", "cc", assignees={"users": [5, 6]}), E], chain("start", "cc", "end"))
    d = Driver(p, able={6: READS})
    assert [e for e in d.effects if isinstance(e, CarbonCopy)] == [CarbonCopy("cc", (6,))]


# --- automatic nodes -----------------------------------------------------------------------------


def test_cc_automation_timer_and_sub_process_nodes() -> None:
    d = Driver(
        process(
            [
                S,
                node("copy", "cc", assignees={"users": [40, 41]}),
                node("auto", "automation", actions=[{"type": "set_fields", "values": {"cost": 1}}]),
                node("wait", "timer", minutes=15),
                node("child", "sub_process", flow="child", record={"form": "f", "values": {}}),
                E,
            ],
            chain("start", "copy", "auto", "wait", "child", "end"),
        )
    )
    kinds = [type(e) for e in d.effects]
    assert kinds == [CarbonCopy, RunActions, ScheduleTimer]
    run = next(e for e in d.effects if isinstance(e, RunActions))
    assert run.effects[0].params == {"values": {"cost": 1}}
    timer = next(e for e in d.effects if isinstance(e, ScheduleTimer))
    assert timer.at == NOW + timedelta(minutes=15)
    (start,) = d.do("timer_fired", timer=timer.timer)
    assert isinstance(start, StartSubProcess)
    assert start.flow == "child"
    d.do("subprocess_done", token=start.token)
    assert d.status == "completed"


def test_a_timer_until_a_date_field() -> None:
    d = Driver(
        process([S, node("wait", "timer", until_field="due"), E], chain("start", "wait", "end")),
        {"due": "2026-11-24T09:00:00+08:00"},
    )
    (timer,) = d.effects
    assert timer == ScheduleTimer(timer.timer, datetime(2026, 11, 24, 1, 0, tzinfo=UTC))


def answered_wait(**extra: Any) -> Process:
    """A three-day wait that ends early once ``flag_a`` is set, then a task."""
    wait = node("wait", "timer", minutes=4320, ends_when={"!!": {"var": "flag_a"}}, **extra)
    return process([S, wait, fill("call", 1), E], chain("start", "wait", "call", "end"))


def test_a_timer_ends_early_once_its_condition_holds_on_the_record() -> None:
    d = Driver(answered_wait())
    (timer,) = d.effects
    assert isinstance(timer, ScheduleTimer)
    assert d.do("record_changed", admin=True) == []  # not yet: the wait goes on
    assert d.state["history"][-1]["action"] != "timer_ended_early"
    d.data = {"flag_a": True}
    effects = d.do("record_changed", admin=True)
    assert effects[0] == CancelTimer(timer.timer)
    assert d.open_nodes() == ["call"]
    ended = [h for h in d.state["history"] if h["action"] == "timer_ended_early"]
    assert [(h["node"], h["actor"]) for h in ended] == [("wait", None)]
    assert d.state["timers"] == {}
    assert d.do("timer_fired", timer=timer.timer) == []  # its time comes: nothing is due
    assert d.do("record_changed", admin=True) == []  # nothing waits on a condition any more
    assert d.open_nodes() == ["call"]


def test_a_timer_whose_condition_already_holds_does_not_wait() -> None:
    d = Driver(answered_wait(), {"flag_a": True})
    assert not any(isinstance(e, ScheduleTimer) for e in d.effects)
    assert d.open_nodes() == ["call"]
    assert "timer_ended_early" in [h["action"] for h in d.state["history"]]


def test_a_timer_whose_condition_cannot_be_evaluated_waits_for_its_time() -> None:
    wait = node(
        "wait",
        "timer",
        minutes=60,
        ends_when={"<": [{"date_diff": [{"var": "due"}, {"now": []}, "days"]}, 1]},
    )
    d = Driver(process([S, wait, E], chain("start", "wait", "end")), {"due": "not a date"})
    (timer,) = d.effects
    assert d.do("record_changed", admin=True) == []
    assert d.status == "running"
    d.do("timer_fired", timer=timer.timer)
    assert d.status == "completed"


def test_a_timer_condition_names_fields_of_the_form() -> None:
    found = problems(
        [S, node("wait", "timer", minutes=5, ends_when={"var": "nope"}), E],
        chain("start", "wait", "end"),
    )
    assert [(p, c) for p, c in found if p.startswith("/nodes/1/ends_when")] == [
        ("/nodes/1/ends_when/var", "logic.var.unknown")
    ]


def test_an_automatic_loop_is_refused() -> None:
    p = process(
        [S, node("x", "exclusive"), E],
        [edge("start", "x"), edge("x", "x", condition=True), edge("x", "end", default=True)],
    )
    with pytest.raises(FlowError) as caught:
        p.start(Context(now=NOW))
    assert caught.value.code == "flow.loop"


# --- static checks -------------------------------------------------------------------------------


def problems(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        process(nodes, edges)
    return [(d.path, d.code) for d in caught.value.diagnostics]


def test_static_checks_name_the_nodes() -> None:
    found = problems(
        [
            S,
            fill("a", 1),
            fill("island", 2),
            node("x", "exclusive"),
            fill("b", 1),
            node("join", "parallel_join"),
            node("loop", "fill", assignees={"users": [1]}),
            E,
        ],
        [
            edge("start", "a"),
            edge("a", "x"),
            edge("x", "b", condition=True),
            edge("x", "loop", condition=True),
            edge("b", "join"),
            edge("island", "join"),
            edge("join", "end"),
            edge("loop", "loop"),
        ],
    )
    assert ("/nodes/2", "flow.unreachable") in found
    assert ("/nodes/3", "flow.default") in found
    assert ("/nodes/5", "flow.join") in found
    assert ("/nodes/6", "flow.no_end") in found
    found = problems(
        [
            S,
            node("a", "approval", permissions={"colour": "hidden", "cost": "invisible"}),
            node("sub", "sub_process", flow="ghost", record={"field": "owner"}),
            E,
        ],
        chain("start", "a", "sub", "end"),
    )
    assert ("/nodes/1/assignees", "flow.assignee") in found
    assert ("/nodes/1/permissions/colour", "flow.field") in found
    assert ("/nodes/1/permissions/cost", "flow.permission") in found
    assert ("/nodes/2/flow", "flow.sub_process") in found
    found = problems(
        [
            node("start", "start", permissions={"ghost": "editable"}, others="maybe"),
            fill("a", 1),
            E,
        ],
        chain("start", "a", "end"),
    )
    assert sorted(found) == [
        ("/nodes/0/others", "flow.permission"),
        ("/nodes/0/permissions/ghost", "flow.field"),
    ]


def test_the_start_lets_the_initiator_edit_only_what_it_names() -> None:
    nodes = process([S, fill("a", 1), E], chain("start", "a", "end")).definition.nodes
    assert (nodes["start"].others, nodes["start"].edits_fields) == ("read_only", True)
    assert (nodes["a"].others, nodes["a"].edits_fields) == ("read_only", True)
    assert not nodes["end"].edits_fields
    guarded = node("start", "start", permissions={"cost": "read_only"}, others="hidden")
    nodes = process([guarded, fill("a", 1), E], chain("start", "a", "end")).definition.nodes
    assert (dict(nodes["start"].permissions), nodes["start"].others) == (
        {"cost": "read_only"},
        "hidden",
    )
    found = problems(
        [S, fill("a", 1), node("end2", "end")], [edge("start", "a"), edge("a", "nowhere")]
    )
    assert found == [("/edges/1/to", "flow.edge")]


def test_an_observer_hears_every_node_entered_and_every_condition_with_its_values() -> None:
    proc = process(
        [
            node("start", "start"),
            node("split", "parallel_split"),
            fill("a", 1),
            node("choice", "exclusive"),
            fill("b", 2),
            node("join", "parallel_join"),
            node("end", "end"),
        ],
        [
            edge("start", "split"),
            edge("split", "a"),
            edge("split", "choice"),
            edge("choice", "b", condition={">": [{"var": "cost"}, 10]}),
            edge("choice", "join", default=True),
            edge("a", "join"),
            edge("b", "join"),
            edge("join", "end"),
        ],
    )
    heard: list[Mapping[str, Any]] = []
    ctx = Context(now=NOW, data={"cost": 12}, resolve=resolve, observe=heard.append)
    state, _ = proc.start(ctx, initiator=INITIATOR)
    assert heard == [
        {"type": "enter", "node": "start", "from": None},
        {"type": "enter", "node": "split", "from": "start"},
        {"type": "enter", "node": "a", "from": "split"},
        {"type": "enter", "node": "choice", "from": "split"},
        {
            "type": "condition",
            "source": "choice",
            "target": "b",
            "holds": True,
            "values": {"cost": 12},
        },
        {"type": "enter", "node": "b", "from": "choice"},
    ]
    # nobody listening changes nothing: the same state either way
    quiet, _ = proc.start(Context(now=NOW, data={"cost": 12}, resolve=resolve), initiator=INITIATOR)
    assert quiet == state
