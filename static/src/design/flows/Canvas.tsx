// What the flow canvas draws: a node as a card (tasks), a pill (start and end), a diamond
// (branches) or a circle (timers), with its name, what it says about itself and its problems; an
// edge with its condition's reading, the default mark and a button to insert a node on it.
import { PlusOutlined, WarningFilled } from "@ant-design/icons";
import { BaseEdge, EdgeLabelRenderer, getSmoothStepPath, Handle, Position, type Edge, type EdgeProps, type Node, type NodeProps } from "@xyflow/react";
import { Dropdown, Tooltip } from "antd";
import { memo } from "react";
import { GROUPS, KIND, KINDS, nodeSize, type NodeDef, type NodeType } from "./model";
import "./trace.css";

type Lang = "zh-CN" | "en";
const say = (lang: Lang, t: { "zh-CN": string; en?: string } | undefined, fallback = "") =>
  (t ? (lang === "en" ? t.en || t["zh-CN"] : t["zh-CN"]) : "") || fallback;

export interface NodeData extends Record<string, unknown> {
  def: NodeDef;
  lines: string[];
  problems: string[];
  lang: Lang;
  /** On a path drawn over the flow: a node passed, or one where the flow waits now. */
  mark?: "visited" | "current";
  /** A canvas to look at, not to change: no handles to connect. */
  readOnly?: boolean;
}

/** Rings of nodes on a path: passed (green), waiting now (blue). */
const MARKS = { visited: "#389e0d", current: "#1677ff" } as const;

export type FlowNode = Node<NodeData, "flow">;

/** A node of the flow. Handles: the way in on top, the way out at the bottom. */
export const FlowNodeView = memo(function FlowNodeView({ data, selected }: NodeProps<FlowNode>) {
  const { def, lines, problems, lang, mark, readOnly } = data;
  const kind = KIND[def.type];
  const name = say(lang, def.label, say(lang, kind?.label, def.type));
  const { width, height } = nodeSize(def.type);
  const shape = kind?.shape ?? "card";
  const ring = problems.length ? "#cf1322" : mark ? MARKS[mark] : selected ? "#1677ff" : "#d9d9d9";
  const pulse = mark === "current" ? "tangram-flow-current" : undefined;
  const markText = mark ? (mark === "current" ? (lang === "en" ? "waiting here" : "当前停留") : lang === "en" ? "passed" : "已经过") : undefined;
  const problemMark = problems.length ? (
    <Tooltip title={problems.join("\n")}>
      <WarningFilled style={{ color: "#cf1322", position: "absolute", top: -8, right: -8, fontSize: 16, background: "#fff", borderRadius: 8 }} aria-label={problems.join("; ")} data-testid={`flow-node-problem-${def.id}`} />
    </Tooltip>
  ) : null;
  // a read-only canvas keeps its handles (edges are drawn between them) but shows none
  const hidden = readOnly ? { opacity: 0, pointerEvents: "none" as const } : undefined;
  const handles = (
    <>
      {kind?.input !== false && <Handle type="target" position={Position.Top} isConnectable={!readOnly} style={hidden} title={readOnly ? undefined : lang === "en" ? "Way in" : "入口"} />}
      {kind?.output !== false && <Handle type="source" position={Position.Bottom} isConnectable={!readOnly} style={hidden} title={readOnly ? undefined : lang === "en" ? "Way out: drag to connect" : "出口：拖动连线"} />}
    </>
  );
  if (shape === "diamond" || shape === "circle") {
    return (
      <div style={{ width, height, position: "relative" }} data-testid={`flow-node-${def.id}`} data-mark={mark} title={markText ? `${name}（${markText}）` : name}>
        <div
          className={pulse}
          style={{
            position: "absolute",
            inset: shape === "diamond" ? 10 : 0,
            transform: shape === "diamond" ? "rotate(45deg)" : undefined,
            borderRadius: shape === "circle" ? "50%" : 6,
            border: `2px solid ${ring}`,
            background: mark === "visited" ? "#f6ffed" : "#fff",
            boxShadow: selected ? "0 0 0 3px rgba(22,119,255,0.2)" : undefined,
          }}
        />
        <div style={{ position: "absolute", inset: 0, display: "grid", placeItems: "center", color: kind?.color, fontWeight: 600, fontSize: 18 }} aria-hidden>
          {shape === "circle" ? "⏱" : def.type.startsWith("parallel") ? "+" : def.type.startsWith("inclusive") ? "○" : "×"}
        </div>
        <div style={{ position: "absolute", top: height + 2, left: -40, right: -40, textAlign: "center", fontSize: 12, lineHeight: 1.3, color: "#262626" }}>
          <div>{name}</div>
          {lines.map((l) => (
            <div key={l} style={{ color: "#595959" }}>
              {l}
            </div>
          ))}
        </div>
        {problemMark}
        {handles}
      </div>
    );
  }
  return (
    <div
      className={pulse}
      style={{
        width,
        minHeight: height,
        position: "relative",
        borderRadius: shape === "pill" ? height / 2 : 6,
        border: `${selected || problems.length || mark ? 2 : 1}px solid ${ring}`,
        borderTop: shape === "card" ? `4px solid ${kind?.color}` : undefined,
        background: shape === "pill" ? kind?.color : mark === "visited" ? "#f6ffed" : "#fff",
        color: shape === "pill" ? "#fff" : "#262626",
        padding: shape === "pill" ? "0 12px" : "6px 10px",
        display: "flex",
        flexDirection: "column",
        justifyContent: "center",
        alignItems: shape === "pill" ? "center" : "stretch",
        boxShadow: selected ? "0 0 0 3px rgba(22,119,255,0.2)" : "0 1px 2px rgba(0,0,0,0.06)",
        fontSize: 13,
      }}
      data-testid={`flow-node-${def.id}`}
      data-mark={mark}
      title={markText ? `${name}（${markText}）` : undefined}
    >
      <div style={{ fontWeight: 600, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>{name}</div>
      {shape === "card" &&
        lines.map((l) => (
          <div key={l} style={{ color: "#595959", fontSize: 12, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }} title={l}>
            {l}
          </div>
        ))}
      {problemMark}
      {handles}
    </div>
  );
});

export interface EdgeData extends Record<string, unknown> {
  /** The condition's reading, "默认", or nothing for a plain connection. */
  text: string;
  isDefault: boolean;
  /** The branch's place among its split's branches (1-based), for conditional splits. */
  order: number | null;
  problems: string[];
  lang: Lang;
  onInsert?: (edge: string, type: NodeType) => void;
  /** On a path drawn over the flow: a connection taken; the one the token moves along now. */
  taken?: boolean;
  moving?: boolean;
}

export type FlowEdge = Edge<EdgeData, "branch">;

const INSERTABLE = KINDS.filter((k) => k.input && k.output && !k.single);

/** An edge: its path, its label (condition, default, order) and the insert button. */
export const BranchEdge = memo(function BranchEdge(props: EdgeProps<FlowEdge>) {
  const { id, source, target, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, markerEnd, selected, data } = props;
  const [path, labelX, labelY] = getSmoothStepPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, borderRadius: 8 });
  const lang = data?.lang ?? "zh-CN";
  const problems = data?.problems ?? [];
  const stroke = problems.length ? "#cf1322" : data?.taken ? MARKS.visited : selected ? "#1677ff" : "#8c8c8c";
  const items = GROUPS.map((g) => ({
    key: g.group,
    type: "group" as const,
    label: say(lang, g.label),
    children: INSERTABLE.filter((k) => k.group === g.group).map((k) => ({ key: k.type, label: say(lang, k.label) })),
  })).filter((g) => g.children.length);
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={{ stroke, strokeWidth: data?.taken ? 2.5 : selected ? 2 : 1.5 }} />
      {data?.moving && (
        <circle r={6} fill={MARKS.current} data-testid={`flow-token-${id}`}>
          <animateMotion dur="0.45s" repeatCount="1" fill="freeze" path={path} />
        </circle>
      )}
      <EdgeLabelRenderer>
        <div
          className="nodrag nopan"
          data-from={source}
          data-to={target}
          style={{
            position: "absolute",
            transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)`,
            pointerEvents: "all",
            display: "flex",
            alignItems: "center",
            gap: 4,
            maxWidth: 220,
          }}
        >
          {data?.text ? (
            <span
              style={{
                background: data.isDefault ? "#f0f0f0" : "#fff7e6",
                border: `1px solid ${problems.length ? "#cf1322" : data.isDefault ? "#bfbfbf" : "#ffd591"}`,
                borderRadius: 4,
                padding: "0 6px",
                fontSize: 12,
                color: "#262626",
                whiteSpace: "nowrap",
                overflow: "hidden",
                textOverflow: "ellipsis",
                maxWidth: 180,
              }}
              title={problems.length ? problems.join("\n") : data.text}
              data-testid={`flow-edge-label-${id}`}
              data-taken={data.taken ? "true" : undefined}
            >
              {data.order !== null ? `${data.order}. ` : ""}
              {data.text}
            </span>
          ) : null}
          {data?.onInsert && (
          <Dropdown
            trigger={["click"]}
            menu={{ items, onClick: ({ key }) => data.onInsert?.(id, key as NodeType) }}
          >
            <button
              type="button"
              aria-label={lang === "en" ? "Insert a node here" : "在此插入节点"}
              title={lang === "en" ? "Insert a node here" : "在此插入节点"}
              data-testid={`flow-edge-insert-${id}`}
              style={{
                width: 20,
                height: 20,
                borderRadius: 10,
                border: "1px solid #1677ff",
                background: "#fff",
                color: "#1677ff",
                display: "grid",
                placeItems: "center",
                cursor: "pointer",
                padding: 0,
                fontSize: 11,
              }}
            >
              <PlusOutlined />
            </button>
          </Dropdown>
          )}
        </div>
      </EdgeLabelRenderer>
    </>
  );
});
