"""The flow designer in Chromium: a 60-node flow opened, laid out and dragged, beside a 5-node flow
measured the same way in the same run.

- **Opening**: from navigation to every node and every connection drawn (a flow whose nodes have
  positions: React Flow's own time to interactive).
- **Opening without positions**: the same flow stripped of its layout, until elkjs has placed
  every node (the designer lays such a flow out when it opens; elkjs loads then).
- **Arranging**: a click on 自动排列 until the new positions are drawn (elkjs already loaded).
- **Dragging**: a node dragged across the canvas in 30 pointer moves; the frame times while it
  moves (median and 95th percentile of the intervals between animation frames).

Needs the built front end (`make web`) and Debian's chromium (`make chromium`).

    .venv/bin/python benchmarks/flow_designer_browser.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from designer_browser import CHROMIUM, PACKAGE, PASSWORD, SYSTEM, serving, signed_in
from playwright.sync_api import Page, sync_playwright
from sandbox import temporary_platform

from tangram.platform import metadata, packages
from tangram.platform.bootstrap import Platform
from tangram.platform.identity import users
from tangram.web.app import STATIC_DIST

URGENT = {"==": [{"var": "urgency"}, "P1"]}


def flow(key: str, blocks: int, *, placed: bool) -> dict[str, Any]:
    """start → a parallel split into two lanes → ``blocks`` blocks, taken by the lanes in turn, of
    (fill, 会签, an exclusive branch to a carbon copy for urgent tickets) → the join → end:
    4 × blocks + 4 nodes."""
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "start", "trigger": "manual"},
        {"id": "split", "type": "parallel_split"},
        {"id": "join", "type": "parallel_join"},
        {"id": "end", "type": "end"},
    ]
    edges: list[dict[str, Any]] = [{"from": "start", "to": "split"}]
    for b in range(blocks):
        fill, check, branch, copy = f"fill_{b}", f"check_{b}", f"branch_{b}", f"copy_{b}"
        nodes += [
            {
                "id": fill,
                "type": "fill",
                "label": {"zh-CN": f"填写 {b}"},
                "assignees": {"initiator": True},
            },
            {
                "id": check,
                "type": "approval",
                "label": {"zh-CN": f"会签 {b}"},
                "mode": "all",
                "assignees": {"role": "service_manager"},
            },
            {"id": branch, "type": "exclusive", "label": {"zh-CN": f"紧急？{b}"}},
            {
                "id": copy,
                "type": "cc",
                "label": {"zh-CN": f"抄送 {b}"},
                "assignees": {"initiator_manager": 1},
            },
        ]
        after = f"after_{b}"
        if b < 2:  # a lane's first block follows the split; the others, the block before
            edges.append({"from": "split", "to": fill})
        edges += [
            {"from": fill, "to": check},
            {"from": check, "to": branch},
            {"from": branch, "to": copy, "condition": URGENT},
        ]
        # the branch's default and the copy meet at the lane's next block (or at the join)
        edges += [{"from": branch, "to": after, "default": True}, {"from": copy, "to": after}]
    edges = [
        {**e, "to": next_fill(e["to"], blocks)} if e["to"].startswith("after_") else e
        for e in edges
    ]
    edges.append({"from": "join", "to": "end"})
    body: dict[str, Any] = {
        "key": key,
        "label": {"zh-CN": f"{len(nodes)} 个节点"},
        "form": "ticket",
        "nodes": nodes,
        "edges": edges,
    }
    if placed:
        body["layout"] = {
            "nodes": {
                n["id"]: {"x": (i % 6) * 260, "y": (i // 6) * 140} for i, n in enumerate(nodes)
            }
        }
    return body


def next_fill(after: str, blocks: int) -> str:
    """``after_b`` is the fill of the same lane's next block (b + 2), or the join."""
    b = int(after.split("_")[1]) + 2
    return f"fill_{b}" if b < blocks else "join"


def prepare(platform: Platform) -> dict[str, int]:
    sizes = {}
    with platform.unit_of_work() as uow:
        users.ensure_admin(uow, username="admin", password=PASSWORD)
        packages.install(uow, SYSTEM, packages.read(PACKAGE))
        for key, blocks, placed in (
            ("tiny", 1, True),
            ("tiny_bare", 1, False),
            ("big", 14, True),
            ("big_bare", 14, False),
        ):
            body = flow(key, blocks, placed=placed)
            sizes[key] = len(body["nodes"])
            metadata.create_definition(uow, SYSTEM, "aftersales", "flow", body)
        uow.commit()
    return sizes


def open_ms(page: Page, base: str, key: str, nodes: int) -> float:
    """From the navigation's start to every node and connection drawn."""
    page.goto(f"{base}/design/aftersales/flows/{key}")
    page.locator(".react-flow__node").nth(nodes - 1).wait_for()
    page.wait_for_function(
        "(n) => document.querySelectorAll('.react-flow__edge').length >= n", arg=nodes - 1
    )
    return float(page.evaluate("() => performance.now()"))


def _stamp_moves(page: Page) -> None:
    """``window.__moved`` gets the time of the first change of a node's position."""
    page.evaluate(
        """() => {
            window.__moved = null;
            const observer = new MutationObserver(() => {
                window.__moved = performance.now();
                observer.disconnect();
            });
            document.querySelectorAll('.react-flow__node').forEach((node) =>
                observer.observe(node, {attributes: true, attributeFilter: ['style']}));
        }"""
    )


def layout_on_open_ms(page: Page, base: str, key: str, nodes: int) -> float:
    """From the navigation's start until the laid-out positions are drawn."""
    page.goto(f"{base}/design/aftersales/flows/{key}")
    page.locator(".react-flow__node").nth(nodes - 1).wait_for()
    page.wait_for_function(
        """() => new Set([...document.querySelectorAll('.react-flow__node')]
                  .map((n) => n.style.transform)).size > 1"""
    )
    return float(page.evaluate("() => performance.now()"))


def arrange_ms(page: Page, base: str, key: str, nodes: int) -> float:
    open_ms(page, base, key, nodes)
    page.get_by_test_id("flow-arrange").hover()
    _stamp_moves(page)
    started = float(page.evaluate("() => performance.now()"))
    page.get_by_test_id("flow-arrange").click()
    page.wait_for_function("() => window.__moved !== null")
    return float(page.evaluate("() => window.__moved")) - started


def drag_frames(page: Page, base: str, key: str, nodes: int) -> tuple[float, float]:
    """Median and 95th percentile of the frame intervals while a node is dragged."""
    open_ms(page, base, key, nodes)
    target = page.locator(".react-flow__node[data-id=start]")
    box = target.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate(
        """() => {
            window.__frames = [];
            window.__dragging = true;
            let last = performance.now();
            const tick = (now) => {
                window.__frames.push(now - last);
                last = now;
                if (window.__dragging) requestAnimationFrame(tick);
            };
            requestAnimationFrame(tick);
        }"""
    )
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 300, y + 200, steps=30)
    page.mouse.up()
    frames = page.evaluate("() => { window.__dragging = false; return window.__frames.slice(1); }")
    ordered = sorted(float(f) for f in frames)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not (STATIC_DIST / "index.html").is_file():
        raise SystemExit("the front end is not built: run `make web` first")
    with temporary_platform() as platform:
        sizes = prepare(platform)
        with serving(platform) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            page = signed_in(browser, base)
            rows: list[tuple[str, float]] = []
            big, tiny = sizes["big"], sizes["tiny"]
            for name, measure in (
                (f"open a {tiny}-node flow (baseline)", lambda: open_ms(page, base, "tiny", tiny)),
                (f"open a {big}-node flow", lambda: open_ms(page, base, "big", big)),
                (
                    f"open a {tiny}-node flow without positions (baseline)",
                    lambda: layout_on_open_ms(page, base, "tiny_bare", tiny),
                ),
                (
                    f"open a {big}-node flow without positions",
                    lambda: layout_on_open_ms(page, base, "big_bare", big),
                ),
                (
                    f"arrange a {tiny}-node flow (baseline)",
                    lambda: arrange_ms(page, base, "tiny", tiny),
                ),
                (f"arrange a {big}-node flow", lambda: arrange_ms(page, base, "big", big)),
            ):
                measure()  # warm: chunks cached, code compiled
                rows.append((name, statistics.median(measure() for _ in range(args.rounds))))
            frames = {key: drag_frames(page, base, key, sizes[key]) for key in ("tiny", "big")}
            browser.close()
    print(f"Chromium, median of {args.rounds} rounds after one warm-up\n")
    print(f"{'step':<50} {'ms':>8} {'vs baseline':>12}")
    for i, (name, ms) in enumerate(rows):
        base_ms = rows[i - i % 2][1]
        print(f"{name:<50} {ms:>8.1f} {ms / base_ms:>11.1f}x")
    print("\ndragging a node (frame intervals, ms)")
    for key, (median, p95) in frames.items():
        print(f"  {sizes[key]:>3} nodes: median {median:.1f}, 95th percentile {p95:.1f}")


if __name__ == "__main__":
    main()
