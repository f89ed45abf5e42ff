"""Reading an app package safely, from a folder or a zip.

A package is a folder (or the plain zip of it) with ``manifest.json`` at the top and one JSON file
per definition, named by its key: ``forms/ticket.json``, ``rules/dispatch.json``, ``flows/``,
``reports/``, ``kpis/``, ``dashboards/``, ``calendars/``; plus ``roles/`` (roles and their grants on
the package's forms), ``groups/`` (the org units it expects; managers are left to the
administrator), ``i18n/zh-CN.json`` and ``i18n/en.json`` (UI strings) and optionally ``demo/``
(what ``tangram demo seed`` reads). The manifest lists every other file in ``contents``.

Reading refuses, naming the entry: paths that climb out (``..``) or are absolute, symbolic links,
entries over :data:`MAX_ENTRY_BYTES`, packages over :data:`MAX_TOTAL_BYTES` uncompressed (zip
bombs) or :data:`MAX_ENTRIES` entries, unknown top-level files, a file whose name is not its key,
duplicate entries and duplicate keys inside a JSON object.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from tangram import __version__
from tangram.engines.meta import validate_definition
from tangram.platform.kernel.errors import NotFound, ValidationFailed
from tangram.platform.kernel.jsondoc import JsonRefused, strict_loads

MAX_ENTRY_BYTES = 5 * 1024 * 1024


MAX_TOTAL_BYTES = 50 * 1024 * 1024


MAX_ENTRIES = 2000


#: Definition folders and the kind of what they hold, in the order a first attempt publishes them.
FOLDERS = {
    "calendars": "calendar",
    "forms": "form",
    "kpis": "kpi",
    "rules": "rule",
    "flows": "flow",
    "reports": "report",
    "dashboards": "dashboard",
}


DOCUMENT_FOLDERS = {"roles": "role", "groups": "group"}


LANGUAGES = ("zh-CN", "en")


TOP_FILES = {"manifest.json", "README.md", "CHANGELOG.md"}


TOP_FOLDERS = {*FOLDERS, *DOCUMENT_FOLDERS, "i18n", "demo"}


def refuse(problems: list[dict[str, str]], detail: str = "") -> ValidationFailed:
    """The refusal of a package, with every problem by file and pointer."""
    return ValidationFailed(
        detail or f"The package is not valid: {len(problems)} problem(s).",
        code="package.invalid",
        errors=problems,
    )


@dataclass
class Package:
    """A package as read: its manifest, definitions by kind and key, roles, groups, strings."""

    manifest: dict[str, Any]
    definitions: dict[str, dict[str, dict[str, Any]]]
    roles: dict[str, dict[str, Any]]
    groups: dict[str, dict[str, Any]]
    i18n: dict[str, dict[str, str]]
    files: dict[str, bytes]

    @property
    def key(self) -> str:
        """The app key."""
        return str(self.manifest["key"])

    @property
    def version(self) -> str:
        """The package version."""
        return str(self.manifest["version"])

    def items(self) -> Iterable[tuple[str, str, dict[str, Any]]]:
        """``(kind, key, body)`` of every definition."""
        for kind, bodies in self.definitions.items():
            for key, body in bodies.items():
                yield kind, key, body


def _folder_entries(root: Path) -> dict[str, bytes]:
    problems: list[dict[str, str]] = []
    entries: dict[str, bytes] = {}
    total = 0
    if not (root / "manifest.json").is_file():
        raise refuse([{"path": "manifest.json", "message": "the folder has no manifest.json"}])
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            problems.append({"path": name, "message": "symbolic links are not allowed"})
            continue
        if path.is_dir():
            continue
        size = path.stat().st_size
        total += size
        if size > MAX_ENTRY_BYTES:
            problems.append({"path": name, "message": f"larger than {MAX_ENTRY_BYTES} bytes"})
            continue
        entries[name] = path.read_bytes()
        if len(entries) > MAX_ENTRIES:
            raise refuse([{"path": name, "message": f"more than {MAX_ENTRIES} files"}])
    if total > MAX_TOTAL_BYTES:
        problems.append({"path": "", "message": f"larger than {MAX_TOTAL_BYTES} bytes in all"})
    if problems:
        raise refuse(problems)
    return entries


def _unsafe(name: str) -> str | None:
    if "\\" in name:
        return "backslashes are not allowed in paths"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute paths are not allowed"
    if ".." in PurePosixPath(name).parts:
        return "paths must not climb out of the package ('..')"
    return None


def _zip_entries(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise refuse([{"path": "", "message": "not a zip file"}]) from None
    problems: list[dict[str, str]] = []
    entries: dict[str, bytes] = {}
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise refuse([{"path": "", "message": f"more than {MAX_ENTRIES} entries"}])
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL_BYTES:
        raise refuse(
            [{"path": "", "message": f"{declared} bytes uncompressed: more than {MAX_TOTAL_BYTES}"}]
        )
    total = 0
    for info in infos:
        name = info.filename
        reason = _unsafe(name)
        if reason is None and stat.S_ISLNK(info.external_attr >> 16):
            reason = "symbolic links are not allowed"
        if reason is None and name in entries:
            reason = "the zip holds this entry twice"
        if reason is None and info.file_size > MAX_ENTRY_BYTES:
            reason = f"larger than {MAX_ENTRY_BYTES} bytes"
        if reason is None and info.compress_type not in COMPRESSIONS:
            reason = f"compressed by a method packages do not use ({info.compress_type})"
        if reason is None and info.flag_bits & 0x1:
            reason = "encrypted entries are not allowed"
        if reason is not None:
            problems.append({"path": name, "message": reason})
            continue
        if info.is_dir():
            continue
        try:
            with archive.open(info) as handle:
                content = handle.read(MAX_ENTRY_BYTES + 1)  # never trust the declared size
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            # a size or checksum that lies (what a zip bomb does), or broken compressed data
            problems.append({"path": name, "message": f"cannot be read from the zip: {exc}"})
            continue
        total += len(content)
        if len(content) > MAX_ENTRY_BYTES or total > MAX_TOTAL_BYTES:
            problems.append({"path": name, "message": "expands beyond the size limits"})
            break
        entries[name] = content
    if problems:
        raise refuse(problems)
    return entries


#: The compression methods a package's entries may use (what ``zipfile`` reads).
COMPRESSIONS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)


def _json(name: str, content: bytes, problems: list[dict[str, str]]) -> Any:
    try:
        return strict_loads(content)
    except JsonRefused as exc:
        where = f"{name}:{exc.path}" if exc.path else name
        problems.append({"path": where, "message": f"not acceptable JSON: {exc.message}"})
    return None


def _checked(name: str, kind: str, body: Any, problems: list[dict[str, str]]) -> bool:
    if not isinstance(body, dict):
        problems.append({"path": name, "message": "must hold a JSON object"})
        return False
    found = validate_definition(kind, body)
    problems += [{"path": f"{name}:{d.path or '/'}", "message": d.message} for d in found]
    stem = PurePosixPath(name).stem
    if not found and kind != "package" and body.get("key") != stem:
        problems.append({"path": f"{name}:/key", "message": f"must be {stem!r}, the file's name"})
        return False
    return not found


def parse(entries: Mapping[str, bytes]) -> Package:
    """A package from its files (path → bytes); every problem is refused at once."""
    problems: list[dict[str, str]] = []
    manifest: dict[str, Any] = {}
    if "manifest.json" not in entries:
        raise refuse([{"path": "manifest.json", "message": "the package has no manifest.json"}])
    raw = _json("manifest.json", entries["manifest.json"], problems)
    if raw is not None and _checked("manifest.json", "package", raw, problems):
        manifest = raw
    definitions: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in FOLDERS.values()}
    documents: dict[str, dict[str, dict[str, Any]]] = {"role": {}, "group": {}}
    i18n: dict[str, dict[str, str]] = {}
    for name, content in entries.items():
        if name == "manifest.json":
            continue
        parts = PurePosixPath(name).parts
        top = parts[0]
        if len(parts) == 1:
            if name not in TOP_FILES:
                problems.append(
                    {
                        "path": name,
                        "message": f"unknown file; the top may hold {', '.join(sorted(TOP_FILES))}",
                    }
                )
            continue
        if top not in TOP_FOLDERS:
            problems.append(
                {
                    "path": name,
                    "message": f"unknown folder {top!r}; use {', '.join(sorted(TOP_FOLDERS))}",
                }
            )
            continue
        if top == "demo":
            continue
        if len(parts) != 2 or not name.endswith(".json"):
            problems.append({"path": name, "message": f"{top}/ holds <key>.json files only"})
            continue
        body = _json(name, content, problems)
        if body is None:
            continue
        if top == "i18n":
            lang = PurePosixPath(name).stem
            if lang not in LANGUAGES:
                problems.append({"path": name, "message": f"languages: {', '.join(LANGUAGES)}"})
            elif not isinstance(body, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in body.items()
            ):
                problems.append({"path": name, "message": "an object of text by message key"})
            else:
                i18n[lang] = body
            continue
        kind = FOLDERS.get(top) or DOCUMENT_FOLDERS[top]
        if _checked(name, kind, body, problems):
            target = definitions[kind] if kind in definitions else documents[kind]
            target[body["key"]] = body
    listed = set(manifest.get("contents") or [])
    present = set(entries) - {"manifest.json"}
    problems += [
        {"path": name, "message": "missing, though manifest.json lists it"}
        for name in sorted(listed - present)
    ]
    refused = {p["path"] for p in problems}
    problems += [
        {"path": name, "message": "not listed in manifest.json's contents"}
        for name in sorted(present - listed)
        if manifest and name not in refused
    ]
    if manifest:
        problems += _manifest_problems(manifest)
    if problems:
        raise refuse(sorted(problems, key=lambda p: p["path"]))
    return Package(
        manifest,
        {k: v for k, v in definitions.items() if v},
        documents["role"],
        documents["group"],
        i18n,
        dict(entries),
    )


def _manifest_problems(manifest: Mapping[str, Any]) -> list[dict[str, str]]:
    problems = []
    try:
        needed = SpecifierSet(str(manifest["platform"]))
    except InvalidSpecifier:
        problems.append(
            {"path": "manifest.json:/platform", "message": "a version specifier such as >=0.1,<1"}
        )
    else:
        if Version(__version__) not in needed:
            problems.append(
                {
                    "path": "manifest.json:/platform",
                    "message": f"needs platform {needed}; this is {__version__}",
                }
            )
    for key, spec in (manifest.get("depends") or {}).items():
        try:
            SpecifierSet(str(spec))
        except InvalidSpecifier:
            problems.append(
                {"path": f"manifest.json:/depends/{key}", "message": "a version specifier"}
            )
    return problems


def read(source: Path | bytes) -> Package:
    """A package from a folder, a zip file or zip bytes."""
    if isinstance(source, bytes):
        return parse(_zip_entries(source))
    if source.is_dir():
        return parse(_folder_entries(source))
    if not source.is_file():
        raise NotFound(f"There is no package at {source.name!r}.", code="package.not_found")
    if source.stat().st_size > MAX_TOTAL_BYTES:
        raise refuse([{"path": source.name, "message": f"larger than {MAX_TOTAL_BYTES} bytes"}])
    return parse(_zip_entries(source.read_bytes()))
