"""The import graph ``make lint`` checks (``lint-imports``) counts every import, wherever it is.

The contracts in ``pyproject.toml`` forbid import cycles among ``tangram``'s modules and keep the
platform's rooms layered. A cycle hidden in an import inside a function is still a cycle: these
tests make sure the graph those contracts read sees such imports, and that it holds no cycle.
"""

from __future__ import annotations

import grimp

GRAPH = grimp.build_graph("tangram")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & graph.modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            successors = edges[node]
            if i < len(successors):
                work.append((node, i + 1))
                nxt = successors[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_the_graph_counts_imports_placed_inside_functions() -> None:
    # `tangram serve` imports the web app inside the command, so the CLI starts fast without it
    details = GRAPH.get_import_details(importer="tangram.cli", imported="tangram.web")
    assert details
    assert all(d["line_contents"].startswith("from tangram.web import") for d in details)


def test_the_cycle_finder_finds_a_cycle_when_there_is_one() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]


def test_no_module_of_tangram_takes_part_in_an_import_cycle() -> None:
    assert _cycles(GRAPH) == []
