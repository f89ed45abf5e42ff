"""The metadata store: drafts, publish, versions, diff, validation, permissions, audit."""

from __future__ import annotations

from typing import Any

import pytest

from tangram.platform import metadata
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import roles, users
from tangram.platform.identity.perms import Actor, load_actor
from tangram.platform.kernel import audit
from tangram.platform.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from tangram.platform.kernel.models import Definition
from tests.conftest import count_queries, make_user


def form(label: str = "工单", extra_field: bool = False) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [{"key": "title", "type": "text", "label": {"zh-CN": "标题"}}]
    if extra_field:
        fields.append(
            {
                "key": "urgency",
                "type": "select",
                "label": {"zh-CN": "紧急度"},
                "options": [{"value": "P1"}],
            }
        )
    return {"key": "ticket", "label": {"zh-CN": label}, "fields": fields}


@pytest.fixture
def app_key(platform: Platform, system: Actor) -> str:
    with platform.unit_of_work() as uow:
        metadata.create_app(
            uow, system, key="aftersales", name={"zh-CN": "售后", "en": "After-sales"}
        )
        uow.commit()
    return "aftersales"


def test_publish_numbers_versions_when_the_draft_changes(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        v1 = metadata.publish(uow, system, app_key, "form", "ticket", note="first")
        view = metadata.update_draft(
            uow, system, app_key, "form", "ticket", form("工单2"), lock_version=2
        )
        assert view.dirty
        v2 = metadata.publish(uow, system, app_key, "form", "ticket")
        uow.commit()
    assert (v1.version, v2.version) == (1, 2)
    assert v1.note == "first"
    assert v1.checksum != v2.checksum
    with platform.unit_of_work(write=False) as uow:
        versions = metadata.list_versions(uow, system, app_key, "form", "ticket")
        latest = metadata.published_body(uow, app_key, "form", "ticket")
        first = metadata.published_body(uow, app_key, "form", "ticket", version=1)
        assert not metadata.get_definition(uow, system, app_key, "form", "ticket").dirty
    assert [v.version for v in versions] == [2, 1]
    assert latest[0] == 2
    assert latest[2]["label"] == {"zh-CN": "工单2"}
    assert first[2]["label"] == {"zh-CN": "工单"}


def test_what_is_published_is_read_through_the_cache_even_after_a_rollback(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        metadata.publish(uow, system, app_key, "form", "ticket")
        uow.commit()

    def newest() -> tuple[int, str | None]:
        with platform.unit_of_work(write=False) as uow:
            version = metadata.published_body(uow, app_key, "form", "ticket")[0]
            return version, metadata.app_tag(uow, app_key)

    first, tag = newest()
    assert first == 1
    assert tag is not None
    assert newest() == (1, tag)  # cached under the same tag
    with platform.unit_of_work() as uow:  # published, read (and cached), then rolled back
        metadata.update_draft(uow, system, app_key, "form", "ticket", form("二"), lock_version=2)
        metadata.publish(uow, system, app_key, "form", "ticket")
        assert metadata.published_body(uow, app_key, "form", "ticket")[0] == 2
        # leaves without committing: rolled back
    assert newest() == (1, tag)
    with platform.unit_of_work() as uow:
        metadata.update_draft(uow, system, app_key, "form", "ticket", form("三"), lock_version=2)
        metadata.publish(uow, system, app_key, "form", "ticket")
        uow.commit()
    version, moved = newest()
    assert version == 2
    assert moved not in (None, tag)


def test_a_published_body_is_read_once_and_each_reader_gets_its_own(
    platform: Platform, system: Actor, app_key: str
) -> None:
    """Read with its digest, a version's body is kept for the process: no statement the second
    time; a reader changing its copy changes nobody else's; a row id a rolled-back publication
    used, taken again by another body, gives that body."""
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        metadata.publish(uow, system, app_key, "form", "ticket")
        uow.commit()
    statements: list[str] = []

    def body() -> dict[str, Any]:
        with platform.unit_of_work(write=False) as uow:
            row_id, _, digest = metadata.published_ref(uow, app_key, "form", "ticket")
            with count_queries(platform.engine) as run:
                found = metadata.version_body(uow, row_id, digest)
        statements.extend(run)
        return found

    first = body()
    read = len(statements)
    assert read == 1
    first["label"]["zh-CN"] = "changed by a reader"
    first["fields"].clear()
    again = body()
    assert len(statements) == read  # from the cache
    assert again["label"] == {"zh-CN": "工单"}
    assert [f["key"] for f in again["fields"]] == ["title"]
    for label, commit in (("二", False), ("三", True)):
        with platform.unit_of_work() as uow:
            metadata.update_draft(
                uow, system, app_key, "form", "ticket", form(label), lock_version=2
            )
            metadata.publish(uow, system, app_key, "form", "ticket")
            row_id, _, digest = metadata.published_ref(uow, app_key, "form", "ticket")
            assert metadata.version_body(uow, row_id, digest)["label"] == {"zh-CN": label}
            if commit:
                uow.commit()
    assert body()["label"] == {"zh-CN": "三"}


def test_the_catalog_of_forms_follows_publications_and_is_read_once_between_them(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        metadata.publish(uow, system, app_key, "form", "ticket")
        uow.commit()
    statements: list[str] = []

    def catalog() -> dict[str, list[str]]:
        with platform.unit_of_work(write=False) as uow:
            metadata.app_tag(uow, app_key)
            with count_queries(platform.engine) as run:
                found = metadata.form_catalog(uow, app_key)
        statements.extend(run)
        return found

    first = catalog()
    assert (first, len(statements)) == ({"ticket": ["title"]}, 1)
    first["ticket"].append("changed by a reader")
    assert (catalog(), len(statements)) == ({"ticket": ["title"]}, 1)  # from the cache
    with platform.unit_of_work() as uow:
        metadata.update_draft(
            uow, system, app_key, "form", "ticket", form(extra_field=True), lock_version=2
        )
        metadata.publish(uow, system, app_key, "form", "ticket")
        assert metadata.form_catalog(uow, app_key) == {"ticket": ["title", "urgency"]}
        uow.commit()
    assert catalog() == {"ticket": ["title", "urgency"]}
    assert len(statements) == 2


def test_a_unit_of_work_reads_an_app_s_row_once_and_refuses_whom_it_hides_it_from(
    platform: Platform, system: Actor, app_key: str
) -> None:
    """A registration asks for the app's id in its write, its rules and its flow start: one
    query. An actor without a grant in the app gets the 404 without one."""
    user = make_user(platform, "stranger")
    with platform.unit_of_work(write=False) as uow:
        stranger = load_actor(uow.session, user, via="session")
        with count_queries(platform.engine) as run:
            refs = [metadata.app_ref(uow, system, app_key) for _ in range(3)]
            with pytest.raises(NotFound):
                metadata.app_ref(uow, stranger, app_key)
            with pytest.raises(NotFound):
                metadata.app_ref(uow, system, "nowhere")
            tag = metadata.app_tag(uow, app_key)
    assert len({r.id for r in refs}) == 1
    assert refs[0].key == app_key
    assert tag is not None
    assert len(run) == 2  # the app's row once, and the missing app's lookup


def test_publish_is_refused_when_the_draft_is_unchanged(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        metadata.publish(uow, system, app_key, "form", "ticket")
        with pytest.raises(Conflict) as caught:
            metadata.publish(uow, system, app_key, "form", "ticket")
    assert caught.value.code == "definition.unchanged"
    assert caught.value.extra["current_version"] == 1


def test_a_draft_may_hold_problems_but_not_another_key(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        uow.commit()
    renamed = {**form(), "key": "other"}
    with platform.unit_of_work() as uow, pytest.raises(ValidationFailed) as caught:
        metadata.update_draft(uow, system, app_key, "form", "ticket", renamed, lock_version=1)
    assert [(e["path"], e["code"]) for e in caught.value.errors] == [
        ("/key", "definition.key_mismatch")
    ]
    bad = {"key": "ticket", "label": {"zh-CN": "x"}, "fields": [{"key": "a", "type": "nope"}]}
    with platform.unit_of_work() as uow:
        view = metadata.update_draft(uow, system, app_key, "form", "ticket", bad, lock_version=1)
        uow.commit()
    assert {(p["path"], p["code"]) for p in view.problems or ()} == {
        ("/fields/0/label", "meta.required"),
        ("/fields/0/type", "meta.enum"),
    }
    with platform.unit_of_work(write=False) as uow:
        stored = metadata.read_draft(uow, system, app_key, "form", "ticket")
        assert stored.definition.draft == bad
        assert len(stored.problems or ()) == 2
        checked = metadata.check_body(uow, system, app_key, "form", form())
    assert checked.problems == []
    assert checked.publishable
    with platform.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        metadata.publish(uow, system, app_key, "form", "ticket")
    assert {e["path"] for e in refused.value.errors} == {"/fields/0/label", "/fields/0/type"}


def test_stale_draft_write_is_refused_with_the_current_draft(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        metadata.update_draft(uow, system, app_key, "form", "ticket", form("新"), lock_version=1)
        uow.commit()
    with platform.unit_of_work() as uow, pytest.raises(StaleVersion) as caught:
        metadata.update_draft(uow, system, app_key, "form", "ticket", form("旧"), lock_version=1)
    assert caught.value.extra["current_version"] == 2
    assert caught.value.extra["current"]["body"]["label"] == {"zh-CN": "新"}


def test_duplicate_and_missing_definitions_are_refused(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        with pytest.raises(Conflict, match="already has"):
            metadata.create_definition(uow, system, app_key, "form", form())
        with pytest.raises(NotFound):
            metadata.get_definition(uow, system, app_key, "form", "nope")
        with pytest.raises(NotFound):
            metadata.get_definition(uow, system, "no_app", "form", "ticket")
        with pytest.raises(NotFound):
            metadata.get_definition(uow, system, app_key, "widget", "ticket")
        with pytest.raises(NotFound):
            metadata.get_version(uow, system, app_key, "form", "ticket", 1)


def test_diff_lists_paths_between_versions_and_draft(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        metadata.publish(uow, system, app_key, "form", "ticket")
        metadata.update_draft(
            uow, system, app_key, "form", "ticket", form("新", extra_field=True), lock_version=2
        )
        metadata.publish(uow, system, app_key, "form", "ticket")
        changes = metadata.diff_versions(uow, system, app_key, "form", "ticket", from_=1, to=2)
        to_draft = metadata.diff_versions(
            uow, system, app_key, "form", "ticket", from_=2, to="draft"
        )
    assert [(c["op"], c["path"]) for c in changes] == [
        ("changed", "/label/zh-CN"),
        ("added", "/fields/1"),
    ]
    assert to_draft == []


def test_published_definition_cannot_be_deleted_but_a_draft_only_one_can(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        metadata.create_definition(
            uow,
            system,
            app_key,
            "dashboard",
            {"key": "cockpit", "label": {"zh-CN": "驾驶舱"}, "widgets": []},
        )
        metadata.publish(uow, system, app_key, "form", "ticket")
        with pytest.raises(Conflict, match="cannot be deleted"):
            metadata.delete_definition(uow, system, app_key, "form", "ticket", lock_version=2)
        metadata.delete_definition(uow, system, app_key, "dashboard", "cockpit", lock_version=1)
        uow.commit()
    with platform.unit_of_work(write=False) as uow:
        kinds = sorted(d.kind for d in uow.session.query(Definition).all())
    assert kinds == ["form"]


def test_permissions_follow_design_and_read_grants(
    platform: Platform, system: Actor, app_key: str
) -> None:
    designer = make_user(platform, "designer")
    reader = make_user(platform, "reader")
    stranger = make_user(platform, "stranger")
    with platform.unit_of_work() as uow:
        for name, actions in (("designers", ["design", "read"]), ("readers", ["read"])):
            role = roles.create_role(uow, system, key=name, name=name)
            roles.add_grant(uow, system, role.id, app_key=app_key, actions=actions)
            user = designer if name == "designers" else reader
            users.assign_role(uow, system, user_id=user.id, role_id=role.id)
        uow.commit()
    with platform.unit_of_work() as uow:
        actors = {
            u.username: load_actor(uow.session, u, via="session")
            for u in (designer, reader, stranger)
        }
        metadata.create_definition(uow, actors["designer"], app_key, "form", form())
        uow.commit()
    with platform.unit_of_work() as uow:
        assert (
            metadata.get_definition(uow, actors["reader"], app_key, "form", "ticket").definition.key
            == "ticket"
        )
        with pytest.raises(PermissionDenied):
            metadata.update_draft(
                uow, actors["reader"], app_key, "form", "ticket", form("x"), lock_version=1
            )
        with pytest.raises(NotFound):  # existence is not revealed
            metadata.get_definition(uow, actors["stranger"], app_key, "form", "ticket")
        assert metadata.list_apps(uow, actors["stranger"]) == []
        assert [a.key for a in metadata.list_apps(uow, actors["reader"])] == [app_key]
        with pytest.raises(PermissionDenied):
            metadata.create_app(uow, actors["designer"], key="other", name={"zh-CN": "其他"})


def test_every_change_is_audited_with_the_checksum(
    platform: Platform, system: Actor, app_key: str
) -> None:
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, system, app_key, "form", form())
        version = metadata.publish(uow, system, app_key, "form", "ticket", note="go live")
        uow.commit()
    with platform.unit_of_work(write=False) as uow:
        entries = audit.list_entries(uow.session, object_type="definition")
        assert audit.verify(uow.session).ok
    assert [e.action for e in entries] == ["definition.created", "definition.published"]
    assert entries[1].payload == {"version": 1, "checksum": version.checksum, "note": "go live"}
    assert entries[1].object_id == "aftersales/form/ticket"


def test_app_input_is_validated(platform: Platform, system: Actor, app_key: str) -> None:
    with platform.unit_of_work() as uow:
        with pytest.raises(ValidationFailed) as caught:
            metadata.create_app(uow, system, key="Bad Key", name={"fr": "x"}, version="one")
        assert {e["path"] for e in caught.value.errors} == {"key", "name", "version"}
        with pytest.raises(Conflict):
            metadata.create_app(uow, system, key=app_key, name={"zh-CN": "重复"})
