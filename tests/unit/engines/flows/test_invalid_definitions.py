"""Invalid flow definitions: each fixture holds a definition and the exact diagnostics it gives.

Every ``flow.*`` code the engine or the flow meta-schema can give has a fixture; the last test
finds the codes in the sources, so a new check without a fixture fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tangram.engines.common import DefinitionError
from tangram.engines.flows import definition as flow_definition
from tangram.engines.flows import graph as flow_graph
from tangram.engines.flows.definition import compile_definition
from tangram.engines.flows.nodes import NODE_TYPES
from tangram.engines.meta import meta_schema

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "invalid").glob("*.json"))
#: What the fixtures' definitions may name: the form's fields and sub-tables, the app's flows
#: and forms.
CONTEXT: dict[str, Any] = {
    "fields": frozenset({"title", "owner", "due", "measures", "cost"}),
    "subtables": {"measures": frozenset({"owner", "what"})},
    "flows": frozenset({"child"}),
    "forms": frozenset({"ticket", "visit"}),
}


def _diagnostics(body: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        compile_definition(body, **CONTEXT)
    return [
        {"path": d.path, "code": d.code, "message": d.message} for d in caught.value.diagnostics
    ]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_an_invalid_definition_gives_exactly_its_diagnostics(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    assert _diagnostics(case["definition"]) == case["diagnostics"]


def _codes_in_sources() -> set[str]:
    source = "".join(
        Path(module.__file__).read_text(encoding="utf-8")
        for module in (flow_definition, flow_graph)
    )
    schema = json.dumps(meta_schema("flow"))
    return set(re.findall(r'"(flow\.[a-z_]+)"', source)) | set(
        re.findall(r'"x-code": "(flow\.[a-z_]+)"', schema)
    )


def test_every_flow_diagnostic_has_a_fixture() -> None:
    covered = {
        d["code"]
        for path in FIXTURES
        for d in json.loads(path.read_text(encoding="utf-8"))["diagnostics"]
    }
    codes = _codes_in_sources()
    assert len(codes) >= 25  # the search found them
    assert sorted(codes - covered) == []


# --- any definition gives a verdict, never a crash -------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 200),
    st.sampled_from(["", "a", "start", "end", "x", "title", "measures", "goto", "condition"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["a", "users", "field", "over", "form"]), inner, max_size=2
        ),
    ),
    max_leaves=6,
)
_options = st.dictionaries(
    st.sampled_from(
        [
            "assignees",
            "fallback",
            "permissions",
            "others",
            "mode",
            "percent",
            "reject_to",
            "after_return",
            "timeout",
            "multi",
            "trigger",
            "condition",
            "minutes",
            "until_field",
            "flow",
            "record",
            "wait",
            "actions",
            "label",
        ]
    ),
    _values,
    max_size=4,
)
_nodes = st.lists(
    st.builds(
        lambda node_id, kind, options: {"id": node_id, "type": kind, **options},
        st.sampled_from(["start", "a", "b", "end"]),
        st.sampled_from([*NODE_TYPES, "teleport"]),
        _options,
    ),
    min_size=1,
    max_size=5,
)
_edges = st.lists(
    st.builds(
        lambda source, target, extra: {"from": source, "to": target, **extra},
        st.sampled_from(["start", "a", "b", "end", "ghost"]),
        st.sampled_from(["start", "a", "b", "end"]),
        st.dictionaries(st.sampled_from(["condition", "default"]), _values, max_size=2),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(nodes=_nodes, edges=_edges, options=st.one_of(st.none(), _values))
def test_any_definition_compiles_or_is_refused_with_diagnostics(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], options: Any
) -> None:
    body: dict[str, Any] = {"key": "p", "label": {"zh-CN": "p"}, "form": "f"}
    body |= {"nodes": nodes, "edges": edges}
    if options is not None:
        body["options"] = options
    try:
        compile_definition(body, **CONTEXT)
    except DefinitionError as exc:
        refusal = exc.diagnostics
    else:
        return  # it compiles
    assert refusal
    assert all(d.path.startswith("/") or d.path == "" for d in refusal)
