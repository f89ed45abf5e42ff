import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  ACTION_TYPES,
  actionLabel,
  actionText,
  blankAction,
  insertPlaceholder,
  moveAction,
  recipientsOf,
  switchValue,
  templateParts,
  toOf,
  valueOf,
  valueSpec,
  valueText,
  type Action,
} from "./model";

const APP = join(dirname(fileURLToPath(import.meta.url)), "../../../../apps/aftersales");

/** Every action of the after-sales rules and automation nodes. */
function packageActions(): Action[] {
  const found: Action[] = [];
  for (const part of ["rules", "flows"]) {
    for (const name of readdirSync(join(APP, part))) {
      const body = JSON.parse(readFileSync(join(APP, part, name), "utf-8")) as { actions?: Action[]; nodes?: { actions?: Action[] }[] };
      found.push(...(body.actions ?? []));
      for (const node of body.nodes ?? []) found.push(...(node.actions ?? []));
    }
  }
  return found;
}

describe("values", () => {
  it("read every value of the after-sales package and write it back unchanged", () => {
    const actions = packageActions();
    expect(actions.length).toBeGreaterThan(20);
    let values = 0;
    for (const action of actions) {
      for (const value of Object.values((action.values as Record<string, unknown> | undefined) ?? {})) {
        values += 1;
        expect(valueOf(valueSpec(value))).toEqual(value);
      }
    }
    expect(values).toBeGreaterThan(30);
  });

  it("know the usual computations", () => {
    expect(valueSpec("in_progress")).toEqual({ kind: "fixed", value: "in_progress" });
    expect(valueSpec({ expr: { var: "title" } })).toEqual({ kind: "field", path: "title" });
    expect(valueSpec({ expr: { var: ["$ref.customer.tier", "normal"] } })).toEqual({ kind: "field", path: "$ref.customer.tier", fallback: "normal" });
    expect(valueSpec({ expr: { now: [] } })).toEqual({ kind: "now" });
    expect(valueSpec({ expr: { "+": [{ var: "transfer_count" }, 1] } })).toEqual({ kind: "add", path: "transfer_count", amount: 1 });
    expect(valueSpec({ expr: { cat: ["改进成果：", { var: "title" }] } })).toEqual({ kind: "text", template: "改进成果：{{title}}" });
    // two texts in a row would read back as one: that stays a formula
    expect(valueSpec({ expr: { cat: ["a", "b"] } }).kind).toBe("formula");
    expect(valueSpec({ expr: { if: [{ var: "x" }, 1, 2] } }).kind).toBe("formula");
    // an object that is not only an expression is a value like any other
    expect(valueSpec({ expr: 1, other: 2 }).kind).toBe("fixed");
  });

  it("write templates as concatenations of texts and fields", () => {
    expect(templateParts("工单 {{ticket_no}}：{{ title }}")).toEqual(["工单 ", { var: "ticket_no" }, "：", { var: "title" }]);
    expect(valueOf({ kind: "text", template: "{{a}}（下一轮）" })).toEqual({ expr: { cat: [{ var: "a" }, "（下一轮）"] } });
  });

  it("switch kinds keeping what still fits", () => {
    expect(switchValue({ kind: "field", path: "title" }, "text")).toEqual({ kind: "text", template: "{{title}}" });
    expect(switchValue({ kind: "field", path: "n" }, "add")).toEqual({ kind: "add", path: "n", amount: 1 });
    expect(switchValue({ kind: "now" }, "field", "title")).toEqual({ kind: "field", path: "title" });
    expect(switchValue({ kind: "add", path: "n", amount: 2 }, "formula")).toEqual({ kind: "formula", logic: { "+": [{ var: "n" }, 2] } });
  });

  it("read in words", () => {
    const names = { field: (k: string) => ({ status: "状态", title: "标题" })[k] };
    expect(valueText({ expr: { var: "title" } }, "zh-CN", names)).toBe("「标题」的值");
    expect(valueText({ expr: { cat: ["改进：", { var: "title" }] } }, "zh-CN", names)).toBe("“改进：{标题}”");
    expect(valueText(true, "en")).toBe("yes");
  });
});

describe("recipients", () => {
  it("read one or a list and write them back as they were given", () => {
    for (const to of [{ field: "assignee" }, [{ role: "service_manager" }, { user: 3 }], { manager_of: "group" }]) {
      expect(toOf(recipientsOf(to), Array.isArray(to))).toEqual(to);
    }
    expect(recipientsOf(undefined)).toEqual([]);
    for (const action of packageActions()) {
      if (action.to !== undefined) expect(toOf(recipientsOf(action.to), Array.isArray(action.to))).toEqual(action.to);
    }
  });
});

describe("actions", () => {
  it("start blank for every type and read in words", () => {
    const names = { field: (k: string) => ({ status: "状态", first_response_at: "首次响应时间", assignee: "处理人" })[k], role: (k: string) => (k === "service_manager" ? "服务经理" : undefined) };
    for (const type of ACTION_TYPES) expect(blankAction(type).type).toBe(type);
    expect(actionText({ type: "set_fields", values: { status: "in_progress", first_response_at: { expr: { now: [] } } } }, "zh-CN", names)).toBe(
      "设置「状态」为 “in_progress”、「首次响应时间」为 当前时间",
    );
    expect(actionText({ type: "notify", to: { role: "service_manager" }, title: "超时提醒" }, "zh-CN", names)).toBe("给 角色「服务经理」 发站内通知：超时提醒");
    expect(actionText({ type: "assign", field: "assignee", table: "dispatch_matrix", output: "group" }, "en", names)).toBe("Assign “处理人” by the decision table “dispatch_matrix”");
    expect(actionText({ type: "escalate", levels: 2 }, "zh-CN")).toBe("升级 2 级");
    expect(actionText({ type: "send_survey", form: "satisfaction_survey", link_field: "ticket", to_field: "contact_email" }, "zh-CN", { field: (k: string) => (k === "contact_email" ? "联系人邮箱" : undefined) })).toBe(
      "发送调查「satisfaction_survey」（14 天内有效，发到「联系人邮箱」）",
    );
    expect(actionText({ type: "send_survey", form: "s", expires_in_days: 7 }, "en")).toBe("Send the survey “s” (valid 7 days)");
    const score = { type: "score", field: "health_score", components: [{ label: { "zh-CN": "逾期工单", en: "Overdue tickets" } }, { label: { "zh-CN": "距续约" } }] };
    expect(actionText(score, "zh-CN", { field: (k: string) => (k === "health_score" ? "健康度" : undefined) })).toBe("计算「健康度」：逾期工单、距续约");
    expect(actionText(score, "en")).toBe("Score “health_score” from Overdue tickets, 距续约");
    expect(actionLabel("score", "zh-CN")).toBe("计算得分");
    for (const action of packageActions()) expect(actionText(action, "zh-CN")).not.toBe("");
  });

  it("insert a field at the caret and move in the list", () => {
    expect(insertPlaceholder("工单已受理", 2, "ticket_no")).toEqual({ text: "工单{{ticket_no}}已受理", caret: 15 });
    expect(moveAction(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    const same = ["a", "b"];
    expect(moveAction(same, 1, 1)).toBe(same);
  });
});
