"""An app with a ticket form, groups and people, for the rule-wiring tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tangram.platform import metadata, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import groups, roles, users
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel.models import Record

SYSTEM = Actor.system("test")


def text(value: str) -> dict[str, str]:
    return {"zh-CN": value, "en": value}


def field(key: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": text(key), **extra}


def options(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": text(v)} for v in values]


TICKET = {
    "key": "ticket",
    "label": text("ticket"),
    "fields": [
        field("title", "text"),
        field("issue_type", "select", options=options("hardware_fault", "software_bug", "usage")),
        field("product_line", "select", options=options("A", "B")),
        field("tier", "select", options=options("normal", "vip")),
        field("urgency", "select", options=options("P1", "P2", "P3", "P4"), default="P3"),
        field(
            "status",
            "select",
            options=options("new", "assigned", "waiting", "resolved", "closed"),
            default="new",
        ),
        field("group", "group", indexed=True),
        field("assignee", "user", indexed=True),
        field("first_response_at", "datetime"),
        field("escalation_level", "integer"),
        field("frt_due", "datetime"),
        field("frt_breached", "checkbox"),
        field("frt_minutes", "number"),
        field("x", "integer"),
        field("y", "integer"),
    ],
}
CALLBACK = {
    "key": "callback",
    "label": text("callback"),
    "fields": [
        field("ticket", "reference", reference={"form": "ticket", "display": "title"}),
        field("question", "text"),
    ],
}
DISPATCH = {
    "key": "dispatch_matrix",
    "type": "decision_table",
    "label": text("dispatch matrix"),
    "form": "ticket",
    "hit_policy": "FIRST",
    "inputs": [{"key": "issue_type"}, {"key": "product_line"}],
    "outputs": [{"key": "group"}],
    "rules": [
        {"when": ["hardware_fault", "A"], "then": ["line_a"]},
        {"when": ["-", "-"], "then": ["desk"]},
    ],
    "tests": [
        {
            "input": {"issue_type": "hardware_fault", "product_line": "A"},
            "expect": {"group": "line_a"},
        }
    ],
}
CALENDAR = {
    "key": "office",
    "label": text("office hours"),
    "time_zone": "Asia/Shanghai",
    "week": {
        key: [["09:00", "12:00"], ["13:00", "18:00"]] for key in ("mon", "tue", "wed", "thu", "fri")
    },
}


def rule(key: str, *, trigger: str = "record_created", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": key,
        "label": text(key),
        "form": "ticket",
        "trigger": {"type": trigger},
    }
    body.update(extra)
    return body


@dataclass
class World:
    """Who exists in the test app."""

    platform: Platform
    users: dict[str, int]
    groups: dict[str, int]

    def publish(self, kind: str, body: dict[str, Any]) -> None:
        with self.platform.unit_of_work() as uow:
            try:
                current = metadata.get_definition(uow, SYSTEM, "svc", kind, body["key"])
            except Exception:  # noqa: BLE001 - a new definition
                metadata.create_definition(uow, SYSTEM, "svc", kind, body)
            else:
                metadata.update_draft(
                    uow,
                    SYSTEM,
                    "svc",
                    kind,
                    body["key"],
                    body,
                    lock_version=current.definition.lock_version,
                )
            metadata.publish(uow, SYSTEM, "svc", kind, body["key"])
            uow.commit()

    def revoke_staff(self, name: str) -> None:
        """Take the world's wide ``staff`` role from one user, to test narrower grants."""
        with self.platform.unit_of_work() as uow:
            staff = roles.role_by_key(uow, "staff")
            users.unassign_role(uow, SYSTEM, role_id=staff.id, user_id=self.users[name])
            uow.commit()

    def create(self, data: dict[str, Any], form: str = "ticket") -> Record:
        with self.platform.unit_of_work() as uow:
            written = records.create_record(uow, SYSTEM, "svc", form, data)
            uow.commit()
        return written.record

    def update(self, record_id: int, changes: dict[str, Any]) -> Record:
        with self.platform.unit_of_work() as uow:
            current = uow.session.get(Record, record_id)
            assert current is not None
            written = records.update_record(
                uow,
                SYSTEM,
                "svc",
                current.form_key,
                record_id,
                changes,
                lock_version=current.lock_version,
            )
            uow.commit()
        return written.record

    def get(self, record_id: int) -> Record:
        with self.platform.unit_of_work(write=False) as uow:
            record = uow.session.get(Record, record_id)
            assert record is not None
            return record


def build_world(platform: Platform) -> World:
    """App ``svc`` with the ticket and callback forms; groups line_a (three agents, a manager)
    and desk (one agent); every user holds role ``staff`` (create, read and update in ``svc``)."""
    user_ids: dict[str, int] = {}
    group_ids: dict[str, int] = {}
    with platform.unit_of_work() as uow:
        metadata.create_app(uow, SYSTEM, key="svc", name=text("service"))
        for name in ("ann", "bob", "cat", "dan", "meg"):
            user = users.create_user(uow, SYSTEM, username=name, display_name=name.title())
            user.email = f"{name}@example.com"
            user_ids[name] = user.id
        # everybody works the app: tasks go only to people whose grants reach the record
        staff = roles.create_role(uow, SYSTEM, key="staff", name="Staff")
        roles.add_grant(uow, SYSTEM, staff.id, app_key="svc", actions=["create", "read", "update"])
        for user_id in user_ids.values():
            users.assign_role(uow, SYSTEM, role_id=staff.id, user_id=user_id)
        for key, members in (("line_a", ("ann", "bob", "cat")), ("desk", ("dan",))):
            group = groups.create_group(uow, SYSTEM, key=key, name=key, manager_id=user_ids["meg"])
            group_ids[key] = group.id
            for member in members:
                groups.add_member(uow, SYSTEM, group_id=group.id, user_id=user_ids[member])
        uow.commit()
    world = World(platform, user_ids, group_ids)
    world.publish("form", TICKET)
    world.publish("form", CALLBACK)
    return world
