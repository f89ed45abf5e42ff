"""Rules: triggers, conditions, actions compiled to effects, priority order, traces, bad input."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.rules import RuleEvent, compile_decision_table, compile_rule, compile_rules

FIELDS = frozenset(
    {
        "title",
        "issue_type",
        "product_line",
        "urgency",
        "assignee",
        "status",
        "customer_tier",
        "first_response_at",
    }
)
TABLE = compile_decision_table(
    {
        "key": "dispatch",
        "hit_policy": "FIRST",
        "inputs": [{"key": "issue_type"}, {"key": "product_line"}],
        "outputs": [{"key": "group"}],
        "rules": [
            {"when": ["hardware_fault", "A"], "then": ["line_a_qe"]},
            {"when": ["-", "-"], "then": ["service_desk"]},
        ],
    }
)
CREATED = RuleEvent("record.created")
TICKET = {"title": "噪音 <b>", "issue_type": "hardware_fault", "product_line": "A", "urgency": "P3"}


def rules(*definitions: dict[str, Any]) -> Any:
    return compile_rules(
        list(definitions),
        fields=FIELDS,
        tables={"dispatch": TABLE},
        forms=frozenset({"ticket", "callback"}),
        flows=frozenset({"handling"}),
    )


def rule(key: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": {"zh-CN": key}, "trigger": {"type": "record_created"}, **extra}


def test_dispatch_assigns_through_the_decision_table_and_traces_why() -> None:
    ruleset = rules(
        rule(
            "dispatch",
            condition={"==": [{"var": "issue_type"}, "hardware_fault"]},
            actions=[
                {"type": "assign", "table": "dispatch", "output": "group", "strategy": "least_open"}
            ],
        )
    )
    result = ruleset.run(CREATED, TICKET)
    (effect,) = result.effects
    assert effect.type == "assign"
    assert effect.params == {
        "field": "assignee",
        "strategy": "least_open",
        "skill": None,
        "closed": [],
        "recipients": [{"group": "line_a_qe"}],
        "table": "dispatch",
        "rows": [1],
    }
    (trace,) = result.traces
    assert trace.matched
    assert trace.values["/=="] is True
    assert trace.values["/==/0/var"] == "hardware_fault"
    assert trace.as_dict()["effects"] == ["assign"]


def test_priority_order_stop_processing_and_disabled_rules() -> None:
    ruleset = rules(
        rule("low", priority=1, actions=[{"type": "comment", "text": "low"}]),
        rule(
            "high", priority=10, stop_processing=True, actions=[{"type": "comment", "text": "high"}]
        ),
        rule("off", priority=20, enabled=False, actions=[{"type": "comment", "text": "off"}]),
    )
    result = ruleset.run(CREATED, TICKET)
    assert [e.params["text"] for e in result.effects] == ["high"]
    assert [t.rule for t in result.traces] == ["high"]


def test_triggers_select_rules_by_event_and_changed_fields() -> None:
    ruleset = rules(
        rule("on_create", actions=[{"type": "comment", "text": "created"}]),
        {
            **rule("on_urgency", actions=[{"type": "comment", "text": "urgency changed"}]),
            "trigger": {"type": "field_changed", "fields": ["urgency"]},
        },
        {
            **rule("on_update", actions=[{"type": "comment", "text": "updated"}]),
            "trigger": {"type": "record_updated"},
        },
    )
    assert [e.params["text"] for e in ruleset.run(CREATED, TICKET).effects] == ["created"]
    changed = ruleset.run(RuleEvent("record.updated", frozenset({"urgency"})), TICKET)
    assert sorted(e.params["text"] for e in changed.effects) == ["updated", "urgency changed"]
    other = ruleset.run(RuleEvent("record.updated", frozenset({"title"})), TICKET)
    assert [e.params["text"] for e in other.effects] == ["updated"]


def test_actions_resolve_values_expressions_and_escaped_templates() -> None:
    ruleset = rules(
        rule(
            "all",
            actions=[
                {
                    "type": "set_fields",
                    "values": {
                        "status": "new",
                        "urgency": {
                            "expr": {
                                "if": [
                                    {"==": [{"var": "customer_tier"}, "vip"]},
                                    "P1",
                                    {"var": "urgency"},
                                ]
                            }
                        },
                    },
                },
                {
                    "type": "notify",
                    "to": [{"group": "line_a_qe"}, {"field": "assignee"}],
                    "channel": "email",
                    "title": "新工单 {{title}}",
                    "body": "<p>{{title}} / {{$old.urgency}}</p>",
                },
                {
                    "type": "create_record",
                    "form": "callback",
                    "values": {"ticket_title": {"expr": {"var": "title"}}},
                },
                {"type": "start_flow", "flow": "handling"},
                {
                    "type": "webhook",
                    "url": "https://erp.example.com/hooks/tickets",
                    "fields": ["title", "urgency"],
                },
                {"type": "escalate", "levels": 2},
            ],
        )
    )
    effects = ruleset.run(
        CREATED, {**TICKET, "customer_tier": "vip"}, old={"urgency": "P4"}
    ).effects
    by_type = {e.type: e.params for e in effects}
    assert by_type["set_fields"] == {"values": {"status": "new", "urgency": "P1"}}
    assert by_type["notify"]["title"] == "新工单 噪音 <b>"  # plain text: the browser escapes it
    assert by_type["notify"]["body"] == "<p>噪音 &lt;b&gt; / P4</p>"  # e-mail HTML: values escaped
    assert by_type["notify"]["recipients"] == [{"group": "line_a_qe"}, {"field": "assignee"}]
    assert by_type["create_record"] == {"form": "callback", "values": {"ticket_title": "噪音 <b>"}}
    assert by_type["start_flow"] == {"flow": "handling"}
    # a later action sees what the set_fields before it wrote
    assert by_type["webhook"]["data"] == {"title": "噪音 <b>", "urgency": "P1"}
    assert by_type["escalate"] == {"levels": 2, "notify": "group_manager"}


def test_timers_and_schedules() -> None:
    timer = compile_rule(
        {
            "key": "ack",
            "label": {"zh-CN": "ack"},
            "trigger": {
                "type": "timer",
                "minutes": 30,
                "after": "created_at",
                "unless": {"!!": [{"var": "first_response_at"}]},
                "business": True,
            },
            "actions": [{"type": "escalate"}],
        },
        fields=FIELDS,
    )
    assert timer.schedule == {"minutes": 30, "after": "created_at", "business": True}
    ruleset = rules(
        {
            "key": "ack",
            "label": {"zh-CN": "ack"},
            "trigger": {
                "type": "timer",
                "minutes": 30,
                "unless": {"!!": [{"var": "first_response_at"}]},
            },
            "actions": [{"type": "escalate"}],
        }
    )
    fired = RuleEvent("timer", rule="ack")
    assert [e.type for e in ruleset.run(fired, TICKET).effects] == ["escalate"]
    answered = ruleset.run(fired, {**TICKET, "first_response_at": "2026-11-23T10:00:00+08:00"})
    assert answered.effects == ()
    assert answered.traces[0].condition == "unless"
    assert ruleset.run(RuleEvent("timer", rule="other"), TICKET).traces == ()
    weekly = compile_rule(
        {
            "key": "review",
            "label": {"zh-CN": "r"},
            "trigger": {"type": "schedule", "cron": "0 9 * * 1", "time_zone": "Asia/Shanghai"},
            "actions": [{"type": "comment", "text": "weekly"}],
        }
    )
    after = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert weekly.next_run(after) == datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_failing_rule_is_traced_and_the_others_still_run() -> None:
    ruleset = rules(
        rule(
            "broken",
            priority=5,
            condition={"date_diff": [{"var": "title"}, "2026-01-01", "hours"]},
            actions=[{"type": "comment", "text": "x"}],
        ),
        rule("fine", actions=[{"type": "comment", "text": "fine"}]),
    )
    result = ruleset.run(CREATED, TICKET)
    assert [e.params["text"] for e in result.effects] == ["fine"]
    assert result.traces[0].rule == "broken"
    assert result.traces[0].error


def test_bad_rules_are_refused_with_every_problem_and_its_path() -> None:
    with pytest.raises(DefinitionError) as caught:
        rules(
            {
                "key": "bad",
                "label": {"zh-CN": "bad"},
                "trigger": {"type": "schedule", "cron": "61 * * * *"},
                "condition": {"frobnicate": [1]},
                "priority": "high",
                "actions": [
                    {"type": "teleport"},
                    {"type": "set_fields", "values": {"nope": 1}},
                    {"type": "assign", "to": {"team": "x"}, "strategy": "random"},
                    {"type": "assign", "table": "missing", "output": "group"},
                    {
                        "type": "notify",
                        "to": {"user": 0},
                        "title": "hi {{ghost}}",
                        "channel": "pigeon",
                    },
                    {"type": "create_record", "form": "invoice"},
                    {"type": "start_flow", "flow": "nope"},
                    {"type": "webhook", "url": "ftp://x"},
                    {"type": "escalate", "levels": 9},
                ],
            },
            rule("bad", actions=[]),
            {
                "key": "late",
                "label": {"zh-CN": "x"},
                "trigger": {"type": "field_changed", "fields": ["ghost"]},
                "actions": [{"type": "comment", "text": "x"}],
            },
        )
    found = {(d.path, d.code) for d in caught.value.diagnostics}
    assert found == {
        ("/bad/trigger/cron", "rule.cron"),
        ("/bad/condition/frobnicate", "logic.op.unknown"),
        ("/bad/priority", "rule.priority"),
        ("/bad/actions/0/type", "rule.action"),
        ("/bad/actions/1/values/nope", "rule.field"),
        ("/bad/actions/2/to", "rule.recipient"),
        ("/bad/actions/2/strategy", "rule.strategy"),
        ("/bad/actions/3/table", "rule.table"),
        ("/bad/actions/4/to/user", "rule.recipient"),
        ("/bad/actions/4/title", "rule.placeholder"),
        ("/bad/actions/4/channel", "rule.channel"),
        ("/bad/actions/5/form", "rule.form"),
        ("/bad/actions/6/flow", "rule.flow"),
        ("/bad/actions/7/url", "rule.url"),
        ("/bad/actions/8/levels", "rule.levels"),
        ("/bad/key", "rule.duplicate"),
        ("/bad/actions", "rule.actions"),
        ("/late/trigger/fields/0", "rule.field"),
    }


def test_later_actions_and_rules_see_what_earlier_actions_set() -> None:
    ruleset = rules(
        rule(
            "triage",
            priority=10,
            actions=[
                {"type": "set_fields", "values": {"urgency": "P1"}},
                {
                    "type": "set_fields",
                    "values": {"status": {"expr": {"cat": ["urgent-", {"var": "urgency"}]}}},
                },
                {"type": "comment", "text": "now {{urgency}} / {{status}}"},
            ],
        ),
        rule(  # runs after triage (lower priority) and sees its writes
            "escalate_p1",
            priority=1,
            condition={"==": [{"var": "urgency"}, "P1"]},
            actions=[{"type": "escalate", "levels": 1}],
        ),
    )
    result = ruleset.run(CREATED, TICKET)
    assert [(e.rule, e.type) for e in result.effects] == [
        ("triage", "set_fields"),
        ("triage", "set_fields"),
        ("triage", "comment"),
        ("escalate_p1", "escalate"),
    ]
    assert result.effects[1].params == {"values": {"status": "urgent-P1"}}
    assert result.effects[2].params == {"text": "now P1 / urgent-P1"}


def test_a_condition_object_with_two_operators_is_refused_not_read_as_a_literal() -> None:
    # the reference reads a multi-key object as data: this condition would always be true
    two = {"==": [{"var": "urgency"}, "P1"], "!=": [{"var": "status"}, "closed"]}
    with pytest.raises(DefinitionError) as caught:
        rules(
            rule("both", condition=two, actions=[{"type": "comment", "text": "x"}]),
            rule(
                "empty",
                condition={"and": [{}, True]},
                actions=[{"type": "set_fields", "values": {"urgency": {"expr": {"a": 1, "b": 2}}}}],
            ),
        )
    found = {(d.path, d.code) for d in caught.value.diagnostics}
    assert found == {
        ("/both/condition", "logic.object"),
        ("/empty/condition/and/0", "logic.object"),
        ("/empty/actions/0/values/urgency/expr", "logic.object"),
    }
    message = next(d.message for d in caught.value.diagnostics if d.path == "/both/condition")
    assert "2 keys: '==', '!='" in message
