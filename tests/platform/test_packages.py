"""App packages: safe reading, all-or-nothing installs, upgrades, downgrades, exports, rollbacks."""

from __future__ import annotations

import io
import json
import stat
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tangram.cli import main
from tangram.config import Settings
from tangram.platform import flows, metadata, packages, records
from tangram.platform.bootstrap import Platform
from tangram.platform.identity.perms import Actor
from tangram.platform.kernel import migrate
from tangram.platform.kernel.errors import Conflict, ValidationFailed
from tangram.platform.kernel.models import App, AppInstall, DefinitionVersion, Grant, Group, Role
from tangram.platform.packages import reader as packages_reader
from tests.platform.rules_fixtures import field, options, text

SYSTEM = Actor.system("test")


def case_form(*extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": "case",
        "label": text("案件"),
        "fields": [
            field("title", "text"),
            field("kind", "select", options=options("hw", "sw")),
            field("team", "group"),
            field("note", "text"),
            *extra,
        ],
    }


TABLE = {
    "key": "route",
    "label": text("分派表"),
    "type": "decision_table",
    "form": "case",
    "hit_policy": "FIRST",
    "inputs": [{"key": "kind"}],
    "outputs": [{"key": "team"}],
    "rules": [
        {"when": ["hw"], "then": ["hw_team"]},
        {"when": ["-"], "then": ["sw_team"]},
    ],
}
DISPATCH = {
    "key": "dispatch",
    "label": text("分派"),
    "form": "case",
    "trigger": {"type": "record_created"},
    "actions": [{"type": "assign", "field": "team", "table": "route", "output": "team"}],
}
FLOW = {
    "key": "review",
    "label": text("审核"),
    "form": "case",
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "check", "type": "approval", "assignees": {"group": "hw_team"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "end"}],
}
KPI = {
    "key": "cases",
    "label": text("案件数"),
    "form": "case",
    "measure": {"type": "count"},
}
REPORT = {
    "key": "by_kind",
    "label": text("按类型"),
    "dataset": {
        "form": "case",
        "dimensions": [{"key": "kind", "field": "kind"}],
        "measures": [{"key": "n", "type": "kpi", "kpi": "cases"}],
    },
    "widget": {"type": "pie"},
}
BOARD = {
    "key": "board",
    "label": text("看板"),
    "widgets": [{"id": "n", "kpi": "cases"}, {"id": "kinds", "report": "by_kind"}],
}
ROLE = {
    "key": "case_worker",
    "name": {"zh-CN": "处理人", "en": "Case worker"},
    "grants": [{"form": "case", "actions": ["create", "read", "update"], "scope": "group"}],
}
GROUPS = [
    {"key": "service", "name": {"zh-CN": "服务部", "en": "Service"}},
    {"key": "hw_team", "name": {"zh-CN": "硬件组", "en": "Hardware"}, "parent": "service"},
    {"key": "sw_team", "name": {"zh-CN": "软件组", "en": "Software"}, "parent": "service"},
]


def files(version: str = "1.0.0", **replace: Any) -> dict[str, Any]:
    """The package's files as JSON values, by path (``replace`` swaps or drops some)."""
    out: dict[str, Any] = {
        "forms/case.json": case_form(),
        "rules/route.json": TABLE,
        "rules/dispatch.json": DISPATCH,
        "flows/review.json": FLOW,
        "kpis/cases.json": KPI,
        "reports/by_kind.json": REPORT,
        "dashboards/board.json": BOARD,
        "roles/case_worker.json": ROLE,
        **{f"groups/{g['key']}.json": g for g in GROUPS},
        "i18n/zh-CN.json": {"app.title": "案件"},
        "i18n/en.json": {"app.title": "Cases"},
    }
    for name, value in replace.items():
        path = name.replace("__", "/") + ".json"
        if value is None:
            out.pop(path)
        else:
            out[path] = value
    out["manifest.json"] = {
        "key": "cases",
        "name": {"zh-CN": "案件管理", "en": "Cases"},
        "version": version,
        "platform": ">=0.1",
        "contents": sorted(n for n in out if n != "manifest.json"),
    }
    return out


def as_bytes(tree: dict[str, Any]) -> dict[str, bytes]:
    return {
        name: value if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False).encode()
        for name, value in tree.items()
    }


def write(folder: Path, tree: dict[str, Any]) -> Path:
    for name, content in as_bytes(tree).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def install(platform: Platform, tree: dict[str, Any], **options: Any) -> packages.Report:
    package = packages.parse(as_bytes(tree))
    with platform.unit_of_work() as uow:
        report = packages.install(uow, SYSTEM, package, **options)
        if not options.get("dry_run"):
            uow.commit()
    return report


def published(platform: Platform, app: str = "cases") -> dict[tuple[str, str], dict[str, Any]]:
    with platform.unit_of_work(write=False) as uow:
        app_id = uow.session.scalar(select(App.id).where(App.key == app))
        return {k: body for k, (_, body) in metadata.published_all(uow, int(app_id or 0)).items()}


def count_versions(platform: Platform) -> int:
    with platform.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(DefinitionVersion)) or 0)


def test_a_package_installs_everything_in_one_go(platform: Platform) -> None:
    report = install(platform, files())
    assert report.action == "install"
    assert report.as_dict()["counts"] == {"added": 7}
    assert "group hw_team created (its manager is for an administrator to set)" in report.directory
    bodies = published(platform)
    assert bodies[("rule", "dispatch")] == DISPATCH
    with platform.unit_of_work() as uow:
        app = uow.session.scalar(select(App).where(App.key == "cases"))
        assert app is not None
        assert (app.version, app.i18n) == (
            "1.0.0",
            {"zh-CN": {"app.title": "案件"}, "en": {"app.title": "Cases"}},
        )
        role = uow.session.scalar(select(Role).where(Role.key == "case_worker"))
        assert role is not None
        grants = uow.session.scalars(select(Grant).where(Grant.role_id == role.id)).all()
        assert [(g.app_key, g.form_key, g.scope) for g in grants] == [("cases", "case", "group")]
        hw = uow.session.scalar(select(Group).where(Group.key == "hw_team"))
        assert hw is not None
        assert hw.parent_id is not None
        written = records.create_record(uow, SYSTEM, "cases", "case", {"title": "t", "kind": "hw"})
        uow.commit()
    assert written.record.data["team"] == hw.id  # the packaged rule dispatched it

    before = count_versions(platform)
    again = install(platform, files())
    assert again.action == "reinstall"
    assert not again.changed
    assert count_versions(platform) == before
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(AppInstall)) == 1


def test_a_package_with_a_broken_reference_writes_nothing(platform: Platform) -> None:
    broken = {**DISPATCH, "actions": [{"type": "set_fields", "values": {"colour": "red"}}]}
    board = {**BOARD, "widgets": [{"id": "x", "report": "nowhere"}]}
    with pytest.raises(ValidationFailed) as caught:
        install(platform, files(rules__dispatch=broken, dashboards__board=board))
    paths = [e["path"] for e in caught.value.errors]
    assert any(p.startswith("rules/dispatch.json:/") for p in paths)
    assert "dashboards/board.json:/widgets/0/report" in paths
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(App.id).where(App.key == "cases")) is None
        assert uow.session.scalar(select(Group.id).where(Group.key == "hw_team")) is None


def test_an_upgrade_shows_its_diff_keeps_records_and_running_instances(platform: Platform) -> None:
    install(platform, files())
    with platform.unit_of_work() as uow:
        record = records.create_record(
            uow, SYSTEM, "cases", "case", {"title": "old", "kind": "sw", "note": "kept"}
        ).record
        instance = flows.start(uow, platform.settings, SYSTEM, "cases", "review", record.id)
        uow.commit()
    newer_form = case_form(field("priority", "select", options=options("P1", "P2")))
    newer_form["fields"] = [f for f in newer_form["fields"] if f["key"] != "note"]
    newer_flow = {**FLOW, "label": text("审核 v2")}
    upgrade = files("1.1.0", forms__case=newer_form, flows__review=newer_flow, rules__dispatch=None)

    plan = install(platform, upgrade, dry_run=True)
    assert plan.action == "upgrade"
    changes = {(c.kind, c.key): c for c in plan.changes}
    assert changes[("form", "case")].details == ["field priority added", "field note removed"]
    assert changes[("rule", "dispatch")].action == "disabled"
    assert (
        "form case: field note is removed but 1 record(s) hold a value; the documents keep it"
        in plan.data
    )
    assert "flow review: 1 running instance(s) stay on version 1" in plan.data
    assert published(platform)[("form", "case")] == case_form()  # the dry run wrote nothing

    done = install(platform, upgrade)
    assert done.as_dict()["counts"] == {"changed": 2, "disabled": 1, "unchanged": 4}
    bodies = published(platform)
    assert bodies[("form", "case")] == newer_form
    assert bodies[("rule", "dispatch")]["enabled"] is False
    with platform.unit_of_work(write=False) as uow:
        kept = uow.session.get(type(record), record.id)
        assert kept is not None
        assert kept.data["note"] == "kept"
        assert uow.session.get(type(instance), instance.id).version == 1  # type: ignore[union-attr]

    with pytest.raises(Conflict, match="older"):
        install(platform, files("1.0.0"))

    rolled = _rollback(platform)
    assert rolled.action == "rollback"
    assert (rolled.version, rolled.previous_version) == ("1.0.0", "1.1.0")
    bodies = published(platform)
    assert bodies[("form", "case")] == case_form()
    assert bodies[("rule", "dispatch")] == DISPATCH
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(App.version).where(App.key == "cases")) == "1.0.0"
        assert uow.session.get(type(record), record.id).data["note"] == "kept"  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="no upgrade to roll back"):
        _rollback(platform)

    forced = install(platform, files("0.9.0"), force=True)
    assert forced.action == "downgrade"


def _rollback(platform: Platform) -> packages.Report:
    with platform.unit_of_work() as uow:
        report = packages.rollback(uow, SYSTEM, "cases")
        uow.commit()
    return report


def test_an_exported_app_imports_elsewhere_with_identical_definitions(
    platform: Platform, tmp_path: Path
) -> None:
    install(platform, files())
    designed = {**REPORT, "widget": {"type": "bar"}}  # a designer's change in the browser
    with platform.unit_of_work() as uow:
        current = metadata.get_definition(uow, SYSTEM, "cases", "report", "by_kind")
        metadata.update_draft(
            uow,
            SYSTEM,
            "cases",
            "report",
            "by_kind",
            designed,
            lock_version=current.definition.lock_version,
        )
        metadata.publish(uow, SYSTEM, "cases", "report", "by_kind")
        uow.commit()
    with platform.unit_of_work(write=False) as uow:
        exported = packages.export(uow, SYSTEM, "cases")
    package = packages.read(exported)
    assert package.roles["case_worker"] == ROLE
    assert package.groups["hw_team"] == GROUPS[1]
    assert package.i18n["en"] == {"app.title": "Cases"}
    for other in _elsewhere(tmp_path):
        with other.unit_of_work() as uow:
            packages.install(uow, SYSTEM, package)
            uow.commit()
        assert published(other) == published(platform)
        assert published(other)[("report", "by_kind")] == designed
    assert packages.zip_entries(package.files) == exported  # the same files pack to the same bytes


def _elsewhere(tmp_path: Path) -> Iterator[Platform]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'elsewhere.db'}",
        secret_key="elsewhere",
        instance_path=tmp_path,
        embedded_worker=False,
    )
    other = Platform.from_settings(settings)
    migrate.upgrade(other.engine)
    try:
        yield other
    finally:
        other.dispose()


def zip_of(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as archive:
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are what some tests want
        for info, content in entries:
            archive.writestr(info, content)
    return out.getvalue()


def good_entries(**replace: Any) -> list[tuple[zipfile.ZipInfo | str, bytes]]:
    return list(as_bytes(files(**replace)).items())  # type: ignore[arg-type]


def problems_of(data: bytes) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        packages.read(data)
    assert caught.value.code == "package.invalid"
    return {e["path"]: e["message"] for e in caught.value.errors}


def test_unsafe_or_malformed_packages_are_refused_naming_the_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert problems_of(zip_of([*good_entries(), ("../escape.json", b"{}")])) == {
        "../escape.json": "paths must not climb out of the package ('..')"
    }
    assert (
        "absolute paths"
        in problems_of(zip_of([*good_entries(), ("/etc/passwd", b"x")]))["/etc/passwd"]
    )
    link = zipfile.ZipInfo("forms/link.json")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert problems_of(zip_of([*good_entries(), (link, b"/etc/passwd")])) == {
        "forms/link.json": "symbolic links are not allowed"
    }
    assert problems_of(zip_of([*good_entries(), ("notes.txt", b"hi")]))["notes.txt"].startswith(
        "unknown file"
    )
    assert problems_of(zip_of([*good_entries(), ("scripts/x.py", b"")]))["scripts/x.py"].startswith(
        "unknown folder 'scripts'"
    )
    duplicated = good_entries()
    duplicated.append(("forms/case.json", b"{}"))
    assert problems_of(zip_of(duplicated))["forms/case.json"] == "the zip holds this entry twice"
    twice = b'{"key": "case", "key": "other", "label": {"zh-CN": "x"}, "fields": []}'
    assert (
        "appears twice"
        in problems_of(
            zip_of([(n, twice) if n == "forms/case.json" else (n, c) for n, c in good_entries()])
        )["forms/case.json"]
    )  # type: ignore[comparison-overlap]
    renamed = good_entries(forms__case=None)
    renamed.append(("forms/case.json", json.dumps({**case_form(), "key": "other"}).encode()))
    assert problems_of(zip_of(renamed)) == {
        "forms/case.json": "not listed in manifest.json's contents",
        "forms/case.json:/key": "must be 'case', the file's name",
    }
    assert problems_of(zip_of([e for e in good_entries() if e[0] != "kpis/cases.json"])) == {
        "kpis/cases.json": "missing, though manifest.json lists it"
    }
    assert problems_of(b"not a zip") == {"": "not a zip file"}
    monkeypatch.setattr(packages_reader, "MAX_ENTRY_BYTES", 100)
    assert "larger than 100 bytes" in problems_of(zip_of(good_entries())).get("forms/case.json", "")
    monkeypatch.setattr(packages_reader, "MAX_ENTRY_BYTES", 5 * 1024 * 1024)
    monkeypatch.setattr(packages_reader, "MAX_TOTAL_BYTES", 1000)
    bomb = zip_of([*good_entries(), ("demo/zeros.bin", bytes(10_000))])
    assert "more than 1000" in problems_of(bomb)[""]


def test_the_manifest_is_checked_against_the_platform_and_dependencies(platform: Platform) -> None:
    tree = files()
    tree["manifest.json"]["platform"] = ">=9"
    tree["manifest.json"]["depends"] = {"crm": ">=1.0"}
    with pytest.raises(ValidationFailed) as caught:
        packages.parse(as_bytes(tree))
    assert {e["path"] for e in caught.value.errors} == {"manifest.json:/platform"}
    tree["manifest.json"]["platform"] = ">=0.1"
    package = packages.parse(as_bytes(tree))
    with platform.unit_of_work() as uow, pytest.raises(ValidationFailed) as missing:
        packages.install(uow, SYSTEM, package)
    assert missing.value.errors == [
        {"path": "manifest.json:/depends/crm", "message": "app 'crm' is not installed"}
    ]


def test_the_command_line_packs_imports_exports_and_rolls_back(
    platform: Platform, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANGRAM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TANGRAM_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.chdir(tmp_path)
    folder = write(tmp_path / "pkg", files())
    runner = CliRunner()
    packed = runner.invoke(main, ["app", "pack", str(folder)])
    assert packed.exit_code == 0, packed.output
    assert "cases-1.0.0.zip: cases 1.0.0, 14 files" in packed.output
    dry = runner.invoke(main, ["app", "import", "cases-1.0.0.zip", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "install (dry run: nothing written); 7 added" in dry.output
    assert "  added     form case" in dry.output
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(App.id).where(App.key == "cases")) is None
    done = runner.invoke(main, ["app", "import", str(folder)])
    assert done.exit_code == 0, done.output
    assert "cases - -> 1.0.0: install; 7 added" in done.output
    write(tmp_path / "pkg2", files("1.1.0", forms__case=case_form(field("extra", "text"))))
    upgraded = runner.invoke(main, ["app", "import", str(tmp_path / "pkg2")])
    assert "cases 1.0.0 -> 1.1.0: upgrade; 1 changed, 6 unchanged" in upgraded.output
    assert "changed   form case (field extra added)" in upgraded.output
    exported = runner.invoke(main, ["app", "export", "cases"])
    assert exported.exit_code == 0, exported.output
    assert packages.read(tmp_path / "cases-1.1.0.zip").version == "1.1.0"
    rolled = runner.invoke(main, ["app", "rollback", "cases"])
    assert rolled.exit_code == 0, rolled.output
    assert "cases 1.1.0 -> 1.0.0: rollback" in rolled.output
    bad = write(tmp_path / "bad", files(forms__case={**case_form(), "fields": "none"}))
    refused = runner.invoke(main, ["app", "import", str(bad)])
    assert refused.exit_code == 1
    assert "forms/case.json:/fields" in refused.output


def test_a_missing_group_or_role_is_refused_at_the_file_that_names_it(platform: Platform) -> None:
    table = {**TABLE, "rules": [TABLE["rules"][0], {"when": ["-"], "then": ["maint_elec"]}]}
    flow = {
        **FLOW,
        "nodes": [FLOW["nodes"][0], {**FLOW["nodes"][1], "assignees": {"role": "lead"}}],
    }
    flow["nodes"].append(FLOW["nodes"][2])
    with pytest.raises(ValidationFailed) as caught:
        install(platform, files(rules__route=table, flows__review=flow))
    assert caught.value.errors == [
        {"path": "flows/review.json:/nodes/1/assignees/role", "message": "there is no role 'lead'"},
        {"path": "rules/route.json:/rules/1/then/0", "message": "there is no group 'maint_elec'"},
    ]
    with platform.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(App.id).where(App.key == "cases")) is None


def test_a_missing_calendar_is_refused_at_the_policy_that_names_it(platform: Platform) -> None:
    policy = {
        "key": "case_sla",
        "type": "sla",
        "label": text("时限"),
        "form": "case",
        "calendar": "workdays",
        "priority_field": "kind",
        "targets": [{"key": "done", "minutes": {"hw": 60}, "stop_when": {"!!": {"var": "note"}}}],
    }
    tree = files()
    tree["rules/case_sla.json"] = policy
    tree["manifest.json"]["contents"] = sorted(n for n in tree if n != "manifest.json")
    with pytest.raises(ValidationFailed) as caught:
        install(platform, tree)
    assert [e["path"] for e in caught.value.errors] == ["rules/case_sla.json:/calendar"]


def test_a_problem_in_another_definition_names_that_definition(platform: Platform) -> None:
    install(platform, files())
    table = {**TABLE, "key": "spare", "rules": [{"when": ["-"], "then": ["ghosts"]}]}
    reader = {**DISPATCH, "key": "spare_dispatch"}
    reader["actions"] = [{"type": "assign", "field": "team", "table": "spare", "output": "team"}]
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, SYSTEM, "cases", "rule", table)
        metadata.publish(uow, SYSTEM, "cases", "rule", "spare")  # nothing reads it yet
        uow.commit()
    with platform.unit_of_work() as uow:
        metadata.create_definition(uow, SYSTEM, "cases", "rule", reader)
        with pytest.raises(ValidationFailed) as caught:
            metadata.publish(uow, SYSTEM, "cases", "rule", "spare_dispatch")
    assert caught.value.errors == [
        {
            "path": "/rules/spare/rules/0/then/0",
            "code": "rule.group",
            "message": "there is no group 'ghosts'",
            "definition": "rule/spare",
            "pointer": "/rules/0/then/0",
        }
    ]
    with pytest.raises(ValidationFailed) as refused:
        install(platform, files("1.1.0", rules__spare_dispatch=reader))  # spare is only here
    assert refused.value.errors == [
        {"path": "rules/spare.json:/rules/0/then/0", "message": "there is no group 'ghosts'"}
    ]


def test_an_upgrade_leaves_archived_definitions_archived(platform: Platform) -> None:
    install(platform, files())
    with platform.unit_of_work() as uow:
        metadata.archive(uow, SYSTEM, "cases", "dashboard", "board")
        metadata.archive(uow, SYSTEM, "cases", "rule", "dispatch")
        uow.commit()
    with platform.unit_of_work(write=False) as uow:
        exported = packages.read(packages.export(uow, SYSTEM, "cases"))
    assert {"dashboards/board.json", "rules/dispatch.json"}.isdisjoint(exported.files)
    upgrade = install(platform, files("1.1.0", rules__dispatch=None))
    changes = {(c.kind, c.key): (c.action, c.details) for c in upgrade.changes}
    assert changes[("dashboard", "board")] == (
        "unchanged",
        ["archived in this app: restore it to use it"],
    )
    assert changes[("rule", "dispatch")] == ("kept", ["archived; not in the package"])
    with platform.unit_of_work(write=False) as uow:
        assert metadata.archived_in(uow, "cases") == {("dashboard", "board"), ("rule", "dispatch")}


def test_a_zip_whose_sizes_lie_is_refused_naming_the_entry() -> None:
    import struct

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", b"{}" + b" " * (8 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    data[22:26] = struct.pack("<I", 100)  # the local header claims 100 bytes …
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 100)  # … and so does the directory
    found = problems_of(bytes(data))
    assert list(found) == ["manifest.json"]
    assert found["manifest.json"].startswith("cannot be read from the zip")


def test_an_entry_of_an_unknown_compression_or_encrypted_is_refused_naming_it() -> None:
    import struct

    entries = dict(good_entries())
    data = bytearray(zip_of(list(entries.items())))
    central = data.find(b"PK\x01\x02")
    data[central + 10 : central + 12] = struct.pack("<H", 99)  # AES, as some tools write
    found = problems_of(bytes(data))
    name = next(iter(entries))
    assert found[name].startswith("compressed by a method packages do not use (99)")
    data = bytearray(zip_of(list(entries.items())))
    central = data.find(b"PK\x01\x02")
    flags = struct.unpack("<H", data[central + 8 : central + 10])[0]
    data[central + 8 : central + 10] = struct.pack("<H", flags | 0x1)
    assert problems_of(bytes(data))[name] == "encrypted entries are not allowed"


def test_a_manifest_nested_too_deep_is_refused() -> None:
    deep = b'{"a": ' * 100_000 + b"1" + b"}" * 100_000
    entries = [(n, deep) if n == "manifest.json" else (n, c) for n, c in good_entries()]
    found = problems_of(zip_of(entries))
    assert "nested deeper than 64 levels" in found["manifest.json"]
