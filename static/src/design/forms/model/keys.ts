// Field keys made from labels: pinyin for Chinese, a slug for Latin text, snake_case as the
// platform requires (^[a-z][a-z0-9_]{0,62}$), never a reserved word, unique among the siblings.
// A key is fixed once published (rules, flows and reports read the field by it).
import { pinyin } from "pinyin-pro";

export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
const MAX = 63;

/** Keys the form engine refuses (tangram/engines/forms/compiler.py RESERVED_KEYS). */
export const RESERVED = new Set([
  "constructor",
  "prototype",
  "id",
  "select",
  "insert",
  "update",
  "delete",
  "from",
  "where",
  "table",
  "order",
  "null",
  "true",
  "false",
]);

const HAN = /\p{Script=Han}/u;

/** The words of a label: pinyin syllables for Chinese characters, Latin words as they are. */
function words(label: string): string[] {
  const out: string[] = [];
  let latin = "";
  const flush = () => {
    out.push(...latin.split(/[^a-z0-9]+/).filter(Boolean));
    latin = "";
  };
  for (const char of label.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()) {
    if (HAN.test(char)) {
      flush();
      out.push(...(pinyin(char, { toneType: "none", type: "array", v: true }) as string[]).map((s) => s.replace(/[^a-z0-9]/g, "")));
    } else latin += char;
  }
  flush();
  return out.filter(Boolean);
}

/** A key for ``label`` that is none of ``taken``: ``中文标签`` → ``zhong_wen_biao_qian``. */
export function suggestKey(label: string, taken: Iterable<string> = [], fallback = "field"): string {
  let base = words(label).join("_");
  if (!base) base = fallback;
  if (!/^[a-z]/.test(base)) base = `${fallback}_${base}`;
  base = base.slice(0, MAX).replace(/_+$/, "");
  if (RESERVED.has(base)) base = `${base}_field`;
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `_${n}`;
    const candidate = `${base.slice(0, MAX - suffix.length).replace(/_+$/, "")}${suffix}`;
    if (!used.has(candidate)) return candidate;
  }
}

/** Why ``key`` cannot be a field key among ``taken`` (``null`` when it can). */
export function keyProblem(key: string, taken: Iterable<string>): "pattern" | "reserved" | "taken" | null {
  if (!KEY_PATTERN.test(key)) return "pattern";
  if (RESERVED.has(key)) return "reserved";
  for (const other of taken) if (other === key) return "taken";
  return null;
}

/** Whether a field's key may still change: not once any version published it. ``path`` is the
 * key, or ``table.column`` for a sub-table's column. */
export function canEditKey(path: string, publishedKeys: ReadonlySet<string>): boolean {
  return !publishedKeys.has(path);
}
