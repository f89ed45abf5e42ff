"""The clients of the load benchmark (``benchmarks/load.py`` runs locust on this file).

Locust patches the standard library with gevent when it is imported, so this file is only ever
loaded by a ``locust`` process; ``load.py`` stays unpatched and reads what locust writes.

The same people work against Tangram and against the baseline apps (``benchmarks/load_baseline.py``
and ``benchmarks/load_replay.py``, both ``LOAD_TARGET=baseline``), request type for request type:

- agents register tickets (cookie session, CSRF token) and read the newest page of tickets;
- engineers open their inbox, open a first-response task and submit it with a note;
- managers open the after-sales cockpit;
- an integration registers tickets through a bearer token.

Read from the environment: ``LOAD_TARGET`` (``tangram`` or ``baseline``), ``LOAD_MIX`` (``full``
or ``register``: agents and the integration registering only), ``LOAD_TOKEN`` (the integration's
bearer token), ``LOAD_PASSWORD`` and ``LOAD_CREATED`` (a file to which the ids of the tickets that
got a 201 are appended, one a line, when the run stops).
"""

from __future__ import annotations

import itertools
import os
import random
from typing import Any, ClassVar

from locust import HttpUser, between, events, task

TARGET = os.environ.get("LOAD_TARGET", "tangram")
MIX = os.environ.get("LOAD_MIX", "full")
PASSWORD = os.environ.get("LOAD_PASSWORD", "tangram-demo")
TOKEN = os.environ.get("LOAD_TOKEN", "")
CREATED_FILE = os.environ.get("LOAD_CREATED", "")

AGENTS = ["agent01", "agent02", "agent03", "agent04", "billing"]
ENGINEERS = ["qe_a01", "qe_a02", "qe_a03", "qe_b01", "qe_b02", "qe_c01", "qe_c02", "qe_c03"]
MANAGERS = ["director", "cs_lead"]
RECORDS = "/api/v1/apps/aftersales/records/ticket"

#: The ids of the tickets that got a 201 in this run (written out when it stops).
created: list[int] = []


@events.test_stop.add_listener
def _write_created(**_kwargs: Any) -> None:
    if CREATED_FILE and TARGET == "tangram":
        with open(CREATED_FILE, "a", encoding="utf-8") as out:
            out.writelines(f"{n}\n" for n in created)


def ticket(n: int) -> dict[str, Any]:
    """A ticket as an agent registers it: a hardware fault on line A, B or C (dispatched by the
    package's rules to that line's quality engineers, whose inbox gets a first-response task)."""
    return {
        "title": f"开机无响应 {n}",
        "channel": random.choice(["phone", "email", "web", "wechat"]),
        "issue_type": "hardware_fault",
        "product_line": random.choice("ABC"),
        "urgency": random.choice(["P2", "P3", "P4"]),
        "contact_name": "李雷",
        "contact_phone": "+86 138-0000-0000",
        "description": "<p>客户反馈设备开机无响应，指示灯不亮。</p>",
    }


class Person(HttpUser):
    """A signed-in person: every request checks its answer and names a failure by its status."""

    abstract = True
    wait_time = between(0.05, 0.25)
    names: ClassVar[list[str]] = []
    _turn = itertools.count()

    def on_start(self) -> None:
        self.username = self.names[next(self._turn) % len(self.names)]
        self.headers: dict[str, str] = {}
        if TARGET == "baseline":
            self.headers = {"X-User": self.username}
            return
        answer = self.call(
            "POST",
            "/api/v1/auth/login",
            "login",
            200,
            {"username": self.username, "password": PASSWORD},
        )
        if answer is not None:
            self.headers = {"X-CSRF-Token": answer["csrf_token"]}

    def call(self, method: str, path: str, name: str, expected: int, body: Any = None) -> Any:
        """One request, a failure unless it answers ``expected``; its JSON, or None."""
        with self.client.request(
            method, path, name=name, json=body, headers=self.headers, catch_response=True
        ) as response:
            if response.status_code != expected:
                response.failure(f"HTTP {response.status_code}")
                return None
            return response.json()

    def register(self, name: str) -> None:
        body = ticket(random.randrange(1_000_000))
        if TARGET == "baseline":
            self.call("POST", "/records/ticket", name, 201, body)
            return
        written = self.call("POST", RECORDS, name, 201, {"data": body})
        if written is not None:
            created.append(int(written["id"]))


class Agent(Person):
    """A customer-service agent: registers tickets and reads the newest page of them."""

    fixed_count = 6 if MIX == "full" else 0
    names: ClassVar[list[str]] = AGENTS

    @task(2)
    def register_ticket(self) -> None:
        self.register("register ticket")

    @task(3)
    def list_tickets(self) -> None:
        path = "/records/ticket?limit=20" if TARGET == "baseline" else f"{RECORDS}?limit=20"
        self.call("GET", path, "list tickets", 200)


class Registrar(Person):
    """An agent who only registers tickets (the registration mix of the scaling runs)."""

    fixed_count = 0 if MIX == "full" else 10
    names: ClassVar[list[str]] = AGENTS

    @task
    def register_ticket(self) -> None:
        self.register("register ticket")


class Engineer(Person):
    """A quality engineer: opens the inbox, takes a first-response task and submits it."""

    fixed_count = 5 if MIX == "full" else 0
    names: ClassVar[list[str]] = ENGINEERS

    @task
    def work_inbox(self) -> None:
        if TARGET == "baseline":
            self._work_baseline()
            return
        inbox = self.call("GET", "/api/v1/tasks?box=todo&limit=20", "inbox", 200)
        if not inbox or not inbox["items"]:
            return
        items = inbox["items"]
        chosen = next((t for t in items if t["node"] == "respond"), items[0])
        view = self.call("GET", f"/api/v1/tasks/{chosen['id']}", "task view", 200)
        if view is None or chosen["node"] != "respond":
            return
        body = {
            "data": {"response_note": "已电话联系客户确认现象"},
            "lock_version": view["record"]["lock_version"],
        }
        self.call("POST", f"/api/v1/tasks/{chosen['id']}/submit", "task submit", 200, body)

    def _work_baseline(self) -> None:
        inbox = self.call("GET", "/tasks?limit=20", "inbox", 200)
        if inbox is None:
            return
        task_id = inbox["items"][0]["id"] if inbox["items"] else inbox["any_task"]
        if task_id is None:  # the replay's engineers, when no ticket waits for them
            return
        view = self.call("GET", f"/tasks/{task_id}", "task view", 200)
        if view is None:
            return
        body = {"response_note": "已电话联系客户确认现象", "lock_version": view["lock_version"]}
        self.call("POST", f"/tasks/{task_id}/submit", "task submit", 200, body)


class Manager(Person):
    """A service manager: opens the after-sales cockpit."""

    fixed_count = 2 if MIX == "full" else 0
    names: ClassVar[list[str]] = MANAGERS

    @task
    def cockpit(self) -> None:
        path = (
            "/cockpit"
            if TARGET == "baseline"
            else "/api/v1/apps/aftersales/dashboards/cockpit/data"
        )
        self.call("GET", path, "cockpit", 200)


class Integration(Person):
    """Another system registering tickets with a bearer token (no session, no CSRF)."""

    fixed_count = 3 if MIX == "full" else 6
    names: ClassVar[list[str]] = ["integration"]

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {TOKEN}"}
        if TARGET == "baseline":
            self.headers["X-User"] = "agent04"

    @task
    def post_ticket(self) -> None:
        self.register("register ticket (token)")
