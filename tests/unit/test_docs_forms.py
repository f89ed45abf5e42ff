"""docs/forms.md stays true to the form engine.

Every ```json block is JSON. Every block that is a whole form definition (it has ``key`` and
``fields`` and, unlike a field, no ``type``) compiles against the other forms of the page, unless
``<!-- invalid: CODE -->`` precedes it: then it gives exactly that one diagnostic, at the path
and with the message the page names. A block after
``<!-- record: FORM -->`` is a record body whose ``data`` the form accepts. The tables name every
field type, every property the meta-schema allows and every code the compiler gives, all taken
from the engine, so a type, property or check added without documentation fails here.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tangram.engines.common import DefinitionError
from tangram.engines.forms import FieldType, compile_form
from tangram.engines.forms import compiler as form_compiler
from tangram.engines.meta import meta_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "forms.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCK = re.compile(r"(?:<!--\s*(?P<mark>[^>]*?)\s*-->\s*\n)?```json\n(?P<body>.*?)```", re.S)
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Block:
    line: int
    mark: str
    body: Any

    @property
    def id(self) -> str:
        return f"line {self.line}"


def blocks() -> Iterator[Block]:
    for match in BLOCK.finditer(TEXT):
        line = TEXT.count("\n", 0, match.start("body"))
        try:
            body = json.loads(match.group("body"))
        except json.JSONDecodeError as exc:
            raise AssertionError(f"docs/forms.md line {line}: not JSON: {exc}") from None
        yield Block(line, match.group("mark") or "", body)


def is_form(body: Any) -> bool:
    return isinstance(body, dict) and {"key", "fields"} <= body.keys() and "type" not in body


ALL = list(blocks())
FORMS = [b for b in ALL if is_form(b.body)]
VALID = [b for b in FORMS if not b.mark.startswith("invalid:")]
INVALID = [b for b in FORMS if b.mark.startswith("invalid:")]
RECORDS = [b for b in ALL if b.mark.startswith("record:")]
CATALOG = {b.body["key"]: [f["key"] for f in b.body["fields"]] for b in VALID}


def section(title: str) -> str:
    """The text of the ``## title`` section, up to the next one."""
    start = TEXT.index(f"\n## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end != -1 else len(TEXT)]


def first_cells(title: str) -> set[str]:
    """The backquoted names in the first column of the section's tables."""
    names: set[str] = set()
    for line in section(title).splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def test_the_page_has_examples_of_each_kind() -> None:
    assert len(VALID) >= 3
    assert INVALID
    assert RECORDS


@pytest.mark.parametrize("block", VALID, ids=lambda b: b.id)
def test_form_examples_compile(block: Block) -> None:
    try:
        compile_form(block.body, forms=CATALOG)
    except DefinitionError as exc:
        pytest.fail(f"docs/forms.md {block.id}: {[d.as_dict() for d in exc.diagnostics]}")


@pytest.mark.parametrize("block", INVALID, ids=lambda b: b.id)
def test_invalid_examples_give_the_diagnostic_they_name(block: Block) -> None:
    code = block.mark.removeprefix("invalid:").strip()
    with pytest.raises(DefinitionError) as caught:
        compile_form(block.body, forms=CATALOG)
    assert [d.code for d in caught.value.diagnostics] == [code]
    assert documented(code)
    prose = " ".join(TEXT.split())  # the page says where and what, in words that wrap
    assert all(f"`{d.path}`" in prose and d.message in prose for d in caught.value.diagnostics)


@pytest.mark.parametrize("block", RECORDS, ids=lambda b: b.id)
def test_record_bodies_fit_their_form(block: Block) -> None:
    key = block.mark.removeprefix("record:").strip()
    form = compile_form(next(b.body for b in VALID if b.body["key"] == key), forms=CATALOG)
    assert set(block.body) == {"data"}
    assert form.check_write(None, block.body["data"]) == []
    serials = {f.key: "SV-20261122-0001" for f in form.serial_fields}
    computed = form.compute(block.body["data"], now=NOW, serials=serials)
    assert computed.errors == ()
    assert form.validate(computed.data, lang="en") == []


def test_the_field_type_table_names_every_type() -> None:
    engine = {t.value for t in FieldType}
    assert set(meta_schema("form")["$defs"]["field"]["properties"]["type"]["enum"]) == engine
    assert sorted(engine - first_cells("Field types")) == []


def test_the_tables_name_every_property_the_meta_schema_allows() -> None:
    schema = meta_schema("form")
    top = schema["properties"]
    documented = first_cells("The definition")
    assert sorted(set(top) - documented) == []
    assert sorted({f"options.{k}" for k in top["options"]["properties"]} - documented) == []
    section_keys = top["layout"]["properties"]["sections"]["items"]["properties"]
    assert sorted(set(section_keys) - first_cells("Layout")) == []
    field_text = section("Fields") + section("Field types")
    field_keys = schema["$defs"]["field"]["properties"]
    option_keys = field_keys["options"]["items"]["properties"]
    missing = [k for k in [*field_keys, *option_keys] if f"`{k}`" not in field_text]
    assert missing == []


def loop_values(loop: ast.For) -> dict[str, set[str]]:
    """What the names of a ``for a, b in (("x", "y"), ...)`` loop take: {"a": {"x", ...}}."""
    values: dict[str, set[str]] = {}
    names = loop.target.elts if isinstance(loop.target, ast.Tuple) else []
    for row in loop.iter.elts if isinstance(loop.iter, ast.Tuple) else []:
        for name, value in zip(names, getattr(row, "elts", []), strict=False):
            if isinstance(name, ast.Name) and isinstance(value, ast.Constant):
                values.setdefault(name.id, set()).add(str(value.value))
    return values


def expand(node: ast.JoinedStr, loop: dict[str, set[str]]) -> set[str]:
    """The strings an f-string gives over its loop's values (other parts left as ``{}``)."""
    texts = [""]
    for part in node.values:
        if isinstance(part, ast.Constant):
            texts = [t + str(part.value) for t in texts]
        elif (
            isinstance(part, ast.FormattedValue)
            and isinstance(part.value, ast.Name)
            and part.value.id in loop
        ):
            texts = [t + v for t in texts for v in sorted(loop[part.value.id])]
        else:
            texts = [t + "{}" for t in texts]
    return set(texts)


def compiler_strings() -> set[str]:
    """The strings of the form compiler: its literals, and its f-strings expanded over the values
    the innermost loop of tuples around them gives (other placeholders left as ``{}``)."""
    tree = ast.parse(inspect.getsource(form_compiler))
    expanded: dict[int, set[str]] = {}
    for loop in ast.walk(tree):  # outer loops come first, so the innermost one wins
        if isinstance(loop, ast.For):
            values = loop_values(loop)
            for inner in ast.walk(loop):
                if isinstance(inner, ast.JoinedStr):
                    expanded[id(inner)] = expand(inner, values)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.JoinedStr):
            found |= expanded.get(id(node)) or expand(node, {})
    return found


def documented(code: str) -> bool:
    """Whether the diagnostics table names ``code`` (``logic.*`` stands for its family)."""
    cells = first_cells("Diagnostics")
    return code in cells or code.split(".", 1)[0] + ".*" in cells


def test_the_diagnostics_table_names_every_code_the_compiler_gives() -> None:
    strings = compiler_strings()
    codes = {s for s in strings if re.fullmatch(r"form\.[a-z_]+(\.[a-z_]+)+", s)}
    assert {"form.field.duplicate", "form.range.invalid", "form.rows.invalid"} <= codes
    assert sorted(s for s in strings if s.startswith("form.") and "{}" in s) == []
    assert sorted(c for c in codes if not documented(c)) == []
