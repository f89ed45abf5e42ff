// What a node says about itself on the canvas, in words: who does it, how approvals count, its
// timeout, its rows — the card a business user reads instead of the definition.
import type { AssigneeRule, NodeDef, Text } from "./types";

export type Lang = "zh-CN" | "en";

export interface Names {
  /** A field's label by key. */
  field?: (key: string) => string | undefined;
  group?: (key: string) => string | undefined;
  role?: (key: string) => string | undefined;
  user?: (id: number) => string | undefined;
}

const zh = (lang: Lang, zhText: string, en: string) => (lang === "en" ? en : zhText);

export function text(value: Text | undefined, lang: Lang, fallback = ""): string {
  if (!value) return fallback;
  return (lang === "en" ? value.en || value["zh-CN"] : value["zh-CN"]) || fallback;
}

/** One assignee rule in words: 角色「质量工程师」, 发起人的 2 级上级 … */
export function ruleText(rule: AssigneeRule, lang: Lang, names: Names = {}): string {
  if (rule.users) {
    const people = rule.users.map((id) => names.user?.(id) ?? `#${id}`);
    return people.join(lang === "en" ? ", " : "、");
  }
  if (rule.group !== undefined) return zh(lang, `部门「${names.group?.(rule.group) ?? rule.group}」`, `group “${names.group?.(rule.group) ?? rule.group}”`);
  if (rule.role !== undefined) return zh(lang, `角色「${names.role?.(rule.role) ?? rule.role}」`, `role “${names.role?.(rule.role) ?? rule.role}”`);
  if (rule.field !== undefined) return zh(lang, `字段「${names.field?.(rule.field) ?? rule.field}」中的人`, `the people in “${names.field?.(rule.field) ?? rule.field}”`);
  if (rule.initiator) return zh(lang, "发起人", "the initiator");
  if (rule.initiator_manager !== undefined) {
    return rule.initiator_manager === 1
      ? zh(lang, "发起人的上级", "the initiator's manager")
      : zh(lang, `发起人的第 ${rule.initiator_manager} 级上级`, `the initiator's manager ${rule.initiator_manager} levels up`);
  }
  if (rule.previous_actor) return zh(lang, "上一步的处理人", "whoever did the previous step");
  return zh(lang, "（未完成的规则）", "(an unfinished rule)");
}

export function rulesText(rules: AssigneeRule | AssigneeRule[] | undefined, lang: Lang, names: Names = {}): string {
  if (rules === undefined) return "";
  const list = Array.isArray(rules) ? rules : [rules];
  return list.map((r) => ruleText(r, lang, names)).join(lang === "en" ? "; " : "；");
}

/** A duration in minutes, in the largest whole unit: 2 天, 4 hours, 90 分钟. */
export function durationText(minutes: number, lang: Lang, business = false): string {
  const [amount, unitZh, unitEn] =
    minutes % 1440 === 0 ? [minutes / 1440, "天", "days"] : minutes % 60 === 0 ? [minutes / 60, "小时", "hours"] : [minutes, "分钟", "minutes"];
  const unit = lang === "en" ? `${amount} ${amount === 1 ? unitEn.replace(/s$/, "") : unitEn}` : `${amount} ${unitZh}`;
  return business ? zh(lang, `${unit}（工作时间）`, `${unit} (business)`) : unit;
}

const MODES: Record<string, [string, string]> = {
  single: ["单人审批", "one approver"],
  any: ["或签", "any one"],
  all: ["会签", "all must approve"],
  sequential: ["依次审批", "in sequence"],
  percentage: ["按比例", "by percentage"],
};

/** The lines under a node's name on the canvas. */
export function summary(node: NodeDef, lang: Lang, names: Names = {}): string[] {
  const lines: string[] = [];
  if (node.type === "approval" && node.mode) {
    const [z, e] = MODES[node.mode] ?? [node.mode, node.mode];
    lines.push(node.mode === "percentage" && node.percent ? `${zh(lang, z, e)} ${node.percent}%` : zh(lang, z, e));
  }
  if (node.type === "fill" || node.type === "approval" || node.type === "cc") {
    if (node.multi?.over) {
      lines.push(zh(lang, `逐行：${names.field?.(node.multi.over) ?? node.multi.over}`, `per row of ${names.field?.(node.multi.over) ?? node.multi.over}`));
    } else lines.push(node.assignees ? rulesText(node.assignees, lang, names) : zh(lang, "未设置处理人", "no assignee yet"));
  }
  if (node.timeout?.minutes) lines.push(zh(lang, `超时 ${durationText(node.timeout.minutes, lang, node.timeout.business)}`, `timeout ${durationText(node.timeout.minutes, lang, node.timeout.business)}`));
  if (node.type === "start") {
    const trigger = { manual: ["手动发起", "started by hand"], record_created: ["记录创建时发起", "on a new record"], condition: ["满足条件时发起", "on a condition"] }[node.trigger ?? "manual"];
    if (trigger) lines.push(zh(lang, trigger[0], trigger[1]));
  }
  if (node.type === "timer") {
    if (node.minutes) lines.push(zh(lang, `等待 ${durationText(node.minutes, lang, node.business)}`, `wait ${durationText(node.minutes, lang, node.business)}`));
    else if (node.until_field) lines.push(zh(lang, `直到「${names.field?.(node.until_field) ?? node.until_field}」`, `until “${names.field?.(node.until_field) ?? node.until_field}”`));
    if (node.ends_when !== undefined) lines.push(zh(lang, "条件满足时提前结束", "or earlier, once its condition holds"));
  }
  if ((node.type === "parallel_join" || node.type === "inclusive_join") && typeof node.wait === "number") {
    lines.push(zh(lang, `等 ${node.wait} 个分支`, `waits for ${node.wait}`));
  }
  if (node.type === "automation") lines.push(zh(lang, `${node.actions?.length ?? 0} 个动作`, `${node.actions?.length ?? 0} actions`));
  if (node.type === "sub_process" && node.flow) lines.push(zh(lang, `发起「${node.flow}」`, `starts “${node.flow}”`));
  return lines;
}
