"""The graph of a process, checked: each node's edges (ends end, others go on, branches have
conditions and one default, joins join and wait for no more branches than they have), and the
whole (every node reachable from the start and reaching an end, joins after their splits)."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping, Sequence

from tangram.engines.common import Diagnostic
from tangram.engines.flows.nodes import SPLITS, Edge, Node


def edge_problems(
    node_id: str,
    kind: str,
    where: str,
    outs: Sequence[Edge],
    ins: Sequence[Edge],
    conditioned: Collection[int],
) -> list[Diagnostic]:
    """What a node's edges must be: ends end, others go on (one way unless they split), branches
    have conditions (``conditioned``: the indexes of edges written with one) and one default,
    joins join."""
    problems = []
    if kind in ("end", "terminate_end"):
        if outs:
            problems.append(
                Diagnostic(where, "flow.end", f"end node {node_id!r} has outgoing edges")
            )
    elif not outs:
        problems.append(
            Diagnostic(where, "flow.dead_end", f"node {node_id!r} has no outgoing edge")
        )
    if kind not in ("exclusive", "inclusive", "parallel_split") and len(outs) > 1:
        problems.append(
            Diagnostic(
                where,
                "flow.fork",
                f"node {node_id!r} ({kind}) has {len(outs)} outgoing edges; use a split",
            )
        )
    if kind in ("exclusive", "inclusive"):
        if len([e for e in outs if e.default]) != 1:
            problems.append(
                Diagnostic(
                    where, "flow.default", f"branch {node_id!r} needs exactly one default edge"
                )
            )
        problems += [
            Diagnostic(
                f"/edges/{edge.index}/condition",
                "flow.condition",
                "a branch edge needs a condition (or default)",
            )
            for edge in outs
            if not edge.default and edge.index not in conditioned
        ]
    if kind in SPLITS and len(ins) < 2:
        problems.append(
            Diagnostic(where, "flow.join", f"join {node_id!r} has fewer than two incoming edges")
        )
    return problems


def quorum_problems(node: Node, where: str) -> list[Diagnostic]:
    """A join cannot wait for more branches than it has incoming edges."""
    if node.quorum is None or node.quorum <= len(node.incoming):
        return []
    return [
        Diagnostic(
            f"{where}/wait",
            "flow.join",
            f"join {node.id!r} has {len(node.incoming)} incoming edges: it cannot wait for "
            f"{node.quorum} branches",
        )
    ]


def graph_problems(
    nodes: Mapping[str, Node], start: str, index_of: Mapping[str, int]
) -> list[Diagnostic]:
    """Unreachable nodes, nodes that cannot reach an end, joins without a matching split."""
    problems = []

    def reach(origin: Sequence[str], forward: bool) -> set[str]:
        seen = set(origin)
        queue = deque(origin)
        while queue:
            node = nodes[queue.popleft()]
            links = [
                e.target if forward else e.source
                for e in (node.outgoing if forward else node.incoming)
            ]
            # a timeout that moves the work elsewhere is a way on, too
            if forward and node.timeout is not None and node.timeout.node is not None:
                links.append(node.timeout.node)
            if not forward:
                links += [
                    n
                    for n, other in nodes.items()
                    if other.timeout is not None and other.timeout.node == node.id
                ]
            for nxt in links:
                if nxt not in seen and nxt in nodes:  # a timeout may name a missing node
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    reachable = reach([start], True)
    ends = [n for n, node in nodes.items() if node.type in ("end", "terminate_end")]
    if not ends:
        problems.append(Diagnostic("/nodes", "flow.end", "needs an end node"))
    finishing = reach(ends, False)
    for node_id, node in nodes.items():
        where = f"/nodes/{index_of[node_id]}"
        if node_id not in reachable:
            problems.append(
                Diagnostic(
                    where, "flow.unreachable", f"node {node_id!r} cannot be reached from the start"
                )
            )
        elif node_id not in finishing:
            problems.append(
                Diagnostic(where, "flow.no_end", f"node {node_id!r} cannot reach an end")
            )
        split = SPLITS.get(node.type)
        if split is not None:
            upstream = reach([node_id], False)
            if not any(nodes[n].type == split for n in upstream):
                problems.append(
                    Diagnostic(where, "flow.join", f"join {node_id!r} has no {split} before it")
                )
    return problems
