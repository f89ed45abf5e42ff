// A decision table as its grid shows it: each condition cell an operator and its value(s) (any,
// equals, one of, <, <=, >, >=, between, not), read as people read it ("= 硬件故障", "∈ A、B",
// "5 ~ 10"); rows added, removed and moved; the table's own test cases with whether each passes
// (the engine's verdict); the inputs no row matches, in words. Reading and writing back leaves
// every cell as it was.
export type Lang = "zh-CN" | "en";
export type Text = { "zh-CN": string; en?: string };

export interface Column {
  key: string;
  label?: Text;
  expression?: unknown;
  values?: unknown[];
}

export interface Row {
  when: unknown[];
  then: unknown[];
  label?: Text;
}

export interface TestCase {
  input: Record<string, unknown>;
  expect: unknown;
  label?: Text;
}

export interface DecisionTableBody {
  key: string;
  label: Text;
  type: "decision_table";
  form?: string;
  hit_policy?: string;
  aggregation?: string;
  inputs: Column[];
  outputs: Column[];
  rules: Row[];
  tests?: TestCase[];
  [property: string]: unknown;
}

export const HIT_POLICIES = ["FIRST", "UNIQUE", "PRIORITY", "ANY", "RULE ORDER", "COLLECT"] as const;
export const CELL_OPS = ["any", "eq", "in", "<", "<=", ">", ">=", "between", "not"] as const;
export type CellOp = (typeof CELL_OPS)[number];

export interface Cell {
  op: CellOp;
  /** eq, <, <=, >, >=: the value; in: the list; between: [low, high]; not: the inner cell. */
  value?: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** What a stored condition cell is. */
export function cellOf(raw: unknown): Cell {
  if (raw === "-") return { op: "any" };
  if (isRecord(raw) && Object.keys(raw).length === 1) {
    const [op, arg] = Object.entries(raw)[0];
    if (op === "in" || op === "<" || op === "<=" || op === ">" || op === ">=" || op === "between") return { op, value: arg };
    if (op === "not") return { op: "not", value: cellOf(arg) };
  }
  return { op: "eq", value: raw };
}

/** The stored form of a condition cell. */
export function rawOf(cell: Cell): unknown {
  switch (cell.op) {
    case "any":
      return "-";
    case "eq":
      return cell.value;
    case "not":
      return { not: rawOf(cell.value as Cell) };
    default:
      return { [cell.op]: cell.value };
  }
}

/** A cell of ``op`` to start from when the user switches to it, keeping the value if it fits. */
export function switchCell(cell: Cell, op: CellOp): Cell {
  if (cell.op === op) return cell;
  const single = cell.op === "in" ? (cell.value as unknown[] | undefined)?.[0] : cell.op === "between" ? (cell.value as unknown[] | undefined)?.[0] : cell.value;
  switch (op) {
    case "any":
      return { op };
    case "in":
      return { op, value: single === undefined || single === null ? [] : [single] };
    case "between":
      return { op, value: [single ?? 0, single ?? 0] };
    case "not":
      return { op, value: cell.op === "any" ? { op: "eq", value: "" } : cell };
    default:
      return { op, value: single ?? "" };
  }
}

const SYMBOL: Record<string, string> = { "<": "<", "<=": "≤", ">": ">", ">=": "≥" };

/** A cell as people read it. ``name`` turns a value into its label (an option's, say). */
export function cellText(raw: unknown, lang: Lang, name: (value: unknown) => string = (v) => (typeof v === "string" ? v : JSON.stringify(v))): string {
  const cell = cellOf(raw);
  const join = (items: unknown[]) => items.map(name).join(lang === "en" ? ", " : "、");
  switch (cell.op) {
    case "any":
      return "-";
    case "eq":
      return name(cell.value);
    case "in":
      return `∈ ${join((cell.value as unknown[]) ?? [])}`;
    case "between": {
      const [low, high] = (cell.value as unknown[]) ?? [];
      return `${name(low)} ~ ${name(high)}`;
    }
    case "not":
      return `≠ ${cellText(rawOf(cell.value as Cell), lang, name).replace(/^∈ /, "")}`;
    default:
      return `${SYMBOL[cell.op]} ${name(cell.value)}`;
  }
}

// --- rows ---------------------------------------------------------------------------------------

/** A new row: "-" in every condition, nothing decided yet. */
export function blankRow(table: DecisionTableBody): Row {
  return { when: table.inputs.map(() => "-"), then: table.outputs.map(() => "") };
}

export function moveRow(table: DecisionTableBody, from: number, to: number): DecisionTableBody {
  if (to < 0 || to >= table.rules.length || from === to) return table;
  const rules = [...table.rules];
  const [row] = rules.splice(from, 1);
  rules.splice(to, 0, row);
  return { ...table, rules };
}

export function setCell(table: DecisionTableBody, row: number, part: "when" | "then", column: number, value: unknown): DecisionTableBody {
  const rules = table.rules.map((r, i) => (i === row ? { ...r, [part]: r[part].map((c, j) => (j === column ? value : c)) } : r));
  return { ...table, rules };
}

/** A column added: every row gets "-" (an input) or an empty output. */
export function addColumn(table: DecisionTableBody, part: "inputs" | "outputs", column: Column): DecisionTableBody {
  const cell = part === "inputs" ? "-" : "";
  return {
    ...table,
    [part]: [...table[part], column],
    rules: table.rules.map((r) => (part === "inputs" ? { ...r, when: [...r.when, cell] } : { ...r, then: [...r.then, cell] })),
  };
}

export function removeColumn(table: DecisionTableBody, part: "inputs" | "outputs", index: number): DecisionTableBody {
  const key = table[part][index]?.key;
  const tests = table.tests?.map((t) =>
    part === "inputs" ? { ...t, input: Object.fromEntries(Object.entries(t.input).filter(([k]) => k !== key)) } : isRecord(t.expect) ? { ...t, expect: Object.fromEntries(Object.entries(t.expect).filter(([k]) => k !== key)) } : t,
  );
  return {
    ...table,
    [part]: table[part].filter((_, i) => i !== index),
    rules: table.rules.map((r) => (part === "inputs" ? { ...r, when: r.when.filter((_, i) => i !== index) } : { ...r, then: r.then.filter((_, i) => i !== index) })),
    ...(tests ? { tests } : {}),
  };
}

// --- tests and gaps -----------------------------------------------------------------------------

/** Whether each test case passes: a case the engine refused has a problem at ``/tests/{i}``. */
export function testResults(table: DecisionTableBody, problems: { path: string; message: string }[]): { passed: boolean; message?: string }[] {
  return (table.tests ?? []).map((_, i) => {
    const found = problems.find((p) => p.path === `/tests/${i}` || p.path.startsWith(`/tests/${i}/`));
    return found ? { passed: false, message: found.message } : { passed: true };
  });
}

/** A gap's combination in words: 问题类型 = 其他值，产品线 = 空. */
export function gapText(gap: Record<string, unknown>, lang: Lang, label: (key: string) => string, name: (key: string, value: unknown) => string): string {
  return Object.entries(gap)
    .map(([k, v]) => {
      const shown = isRecord(v) && v.other ? (lang === "en" ? "(any other value)" : "其他值") : v === null || v === "" ? (lang === "en" ? "(empty)" : "空") : name(k, v);
      return `${label(k)} = ${shown}`;
    })
    .join(lang === "en" ? ", " : "，");
}
