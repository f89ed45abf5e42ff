// Moving running instances to a newer version: every node an instance is at needs a node of the
// same type in the target. A node the target still has (same id, same type) maps to itself; for
// the others the user picks one, among the target's nodes of that type.
import type { Text } from "./types";

/** Running instances at one node of a version (what the impact answer lists). */
export interface RunningNode {
  node: string;
  label?: Text | null;
  type?: string | null;
  instances: number;
  in_draft?: boolean;
}

export interface RunningVersion {
  version: number;
  instances: number;
  nodes?: RunningNode[];
}

export interface VersionNode {
  id: string;
  type: string;
  label?: Text;
}

export interface MappingRow {
  node: string;
  label?: Text | null;
  type: string;
  instances: number;
  /** The target's node it moves to (``null``: not chosen yet). */
  target: string | null;
  /** The target's nodes of the same type. */
  options: VersionNode[];
}

/** The node list of a version's body. */
export function nodesOf(body: unknown): VersionNode[] {
  const nodes = (body as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes
    .filter((n): n is Record<string, unknown> => Boolean(n) && typeof n === "object")
    .map((n) => ({ id: String(n.id), type: String(n.type), ...(n.label ? { label: n.label as Text } : {}) }));
}

/** One row per node instances are at, with its default target. */
export function mappingRows(running: RunningNode[], source: VersionNode[], target: VersionNode[]): MappingRow[] {
  return running.map((r) => {
    const type = r.type ?? source.find((n) => n.id === r.node)?.type ?? "";
    const options = target.filter((n) => n.type === type);
    const same = options.find((n) => n.id === r.node);
    return { node: r.node, label: r.label ?? source.find((n) => n.id === r.node)?.label, type, instances: r.instances, target: same ? same.id : options.length === 1 ? options[0].id : null, options };
  });
}

/** The mapping the migration API takes: only the nodes that move to another id. */
export function mappingOf(rows: MappingRow[]): Record<string, string> {
  return Object.fromEntries(rows.filter((r) => r.target !== null && r.target !== r.node).map((r) => [r.node, r.target as string]));
}

/** Whether every node has a target. */
export function mappingComplete(rows: MappingRow[]): boolean {
  return rows.every((r) => r.target !== null);
}

/** The versions with running instances older than ``target`` (those that can move to it). */
export function movable(running: RunningVersion[], target: number | null): RunningVersion[] {
  return target === null ? [] : running.filter((r) => r.version < target && r.instances > 0);
}
