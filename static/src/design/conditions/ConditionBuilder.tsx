// The condition builder every designer uses: react-querybuilder with its antd controls — fields by
// label, comparisons that fit each field type (dates relative to now, "was changed", empty or
// not, one of a list, another field as the value), AND / OR groups that nest and negate, and
// "any / every / no row" of a sub-table over its columns — read from and written to JsonLogic by
// logic.ts, with the condition's plain-language reading under it.
import { AntDValueEditor, AntDValueSelector, QueryBuilderAntD, type AntDValueEditorProps, type AntDValueSelectorProps } from "@react-querybuilder/antd";
import { PlusOutlined } from "@ant-design/icons";
import { Alert, Button, Space, Typography } from "antd";
import { useMemo, useState } from "react";
import { QueryBuilder, type Field, type FullOperator, type RuleGroupType, type Translations, type VersatileSelectorProps } from "react-querybuilder";
import "react-querybuilder/dist/query-builder-layout.css";
import "./builder.css";
import { useLang } from "../../i18n";
import { fromQuery, namedFields, operatorName, operatorsFor, reading, toQuery, UNARY, type ConditionField, type Group, type Lang } from "./logic";

const NUMERIC = new Set(["number", "integer", "money", "formula"]);
const CHOICE = new Set(["select", "radio", "multi_select"]);
const COMPARE = new Set(["==", "!=", ">", ">=", "<", "<="]);
const DAY_COUNTS = new Set(["within_last_days", "more_than_days_ago", "due_within_days"]);

const text = (t: ConditionField["label"] | undefined, lang: Lang, fallback: string) => (t ? (lang === "en" ? t.en || t["zh-CN"] : t["zh-CN"]) : fallback);

function rqbFields(fields: ConditionField[], lang: Lang): Field[] {
  return fields.map((f) => ({
    name: f.key,
    label: text(f.label, lang, f.key),
    type: f.type,
    ...(f.options ? { values: f.options.map((o) => ({ name: o.value, label: text(o.label, lang, o.value) })) } : {}),
    ...(f.columns
      ? {
          matchModes: [
            { name: "some", label: lang === "en" ? "any row" : "任一行" },
            { name: "all", label: lang === "en" ? "every row" : "每一行" },
            { name: "none", label: lang === "en" ? "no row" : "没有一行" },
          ],
          subproperties: rqbFields(f.columns, lang),
        }
      : {}),
  }));
}

function translations(lang: Lang): Partial<Translations> {
  const zh = lang !== "en";
  return {
    addRule: { label: zh ? "＋ 条件" : "+ Rule", title: zh ? "添加条件" : "Add a rule" },
    addGroup: { label: zh ? "＋ 条件组" : "+ Group", title: zh ? "添加条件组" : "Add a group" },
    removeRule: { label: "✕", title: zh ? "删除条件" : "Remove the rule" },
    removeGroup: { label: "✕", title: zh ? "删除条件组" : "Remove the group" },
    notToggle: { label: zh ? "取反" : "Not", title: zh ? "不满足这组条件" : "Invert the group" },
    fields: { title: zh ? "字段" : "Field", placeholderLabel: zh ? "选择字段" : "Choose a field" },
    operators: { title: zh ? "比较" : "Comparison", placeholderLabel: zh ? "选择比较" : "Choose" },
    value: { title: zh ? "值" : "Value" },
    combinators: { title: zh ? "且 / 或" : "And / or" },
    valueSourceSelector: { title: zh ? "与值还是与字段比较" : "Compare with a value or a field" },
    matchMode: { title: zh ? "哪些行" : "Which rows" },
  };
}

// antd's selects and inputs get the control's title as their accessible name
const LabelledSelector = (props: VersatileSelectorProps) => <AntDValueSelector {...(props as AntDValueSelectorProps)} aria-label={props.title} />;
// a form's fields are many (a ticket has fifty): found by typing part of the label
const FieldSelector = (props: VersatileSelectorProps) => <AntDValueSelector {...(props as AntDValueSelectorProps)} aria-label={props.title} showSearch />;
const LabelledEditor = (props: AntDValueEditorProps) => <AntDValueEditor {...props} aria-label={props.title} />;
const CONTROLS = {
  combinatorSelector: LabelledSelector,
  fieldSelector: FieldSelector,
  operatorSelector: LabelledSelector,
  valueSourceSelector: LabelledSelector,
  valueEditor: LabelledEditor,
};

export function ConditionBuilder({
  value,
  onChange,
  fields,
  testId = "condition",
}: {
  value: unknown;
  onChange: (next: unknown) => void;
  fields: ConditionField[];
  testId?: string;
}) {
  const { lang, t } = useLang();
  const [seen, setSeen] = useState<unknown>(value);
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState<Group | null>(() => toQuery(value, fields));
  // a condition from elsewhere (undo, another field selected) is read afresh
  if (value !== seen) {
    setSeen(value);
    setQuery(toQuery(value, fields));
  }
  const shown = useMemo(() => (query ? namedFields(query, fields) : fields), [query, fields]);
  const byKey = useMemo(() => {
    const all = new Map<string, ConditionField>();
    const add = (list: ConditionField[]) => list.forEach((f) => (all.set(f.key, f), f.columns && add(f.columns)));
    add(shown);
    return all;
  }, [shown]);
  const rqb = useMemo(() => rqbFields(shown, lang), [shown, lang]);
  if (query === null) {
    return (
      <Space direction="vertical" style={{ width: "100%" }} data-testid={testId}>
        <Alert type="info" showIcon message={t("design.form.condition.custom")} description={reading(value, fields, lang)} />
        <Button size="small" danger onClick={() => onChange(undefined)}>
          {t("design.form.condition.clear")}
        </Button>
      </Space>
    );
  }
  // the builder mounts when there is a condition or one is asked for (a field has two of them,
  // and most fields have none)
  if (!open && value === undefined) {
    return (
      <Button size="small" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid={`${testId}-open`}>
        {t("design.form.condition.add")}
      </Button>
    );
  }
  const typeOf = (field: string) => byKey.get(field)?.type ?? "text";
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid={testId}>
      <div className="tangram-conditions">
      <QueryBuilderAntD>
        <QueryBuilder
          fields={rqb}
          controlElements={CONTROLS}
          query={query as RuleGroupType}
          onQueryChange={(next) => {
            const group = next as Group;
            setQuery(group);
            const logic = fromQuery(group, shown);
            setSeen(logic);
            onChange(logic);
          }}
          combinators={[
            { name: "and", label: lang === "en" ? "all (and)" : "且（全部满足）" },
            { name: "or", label: lang === "en" ? "any (or)" : "或（任一满足）" },
          ]}
          getOperators={(field): FullOperator[] =>
            operatorsFor(typeOf(field)).map((op) => ({ name: op, value: op, label: operatorName(op, lang), ...(UNARY.has(op) ? { arity: "unary" as const } : {}) }))
          }
          getValueEditorType={(field, operator) => {
            const type = typeOf(field);
            if (CHOICE.has(type) && (operator === "in" || operator === "not_in")) return "multiselect";
            if (CHOICE.has(type) && type !== "multi_select") return "select";
            if (type === "multi_select") return "select";
            return "text";
          }}
          getInputType={(field, operator) => {
            const type = typeOf(field);
            if (DAY_COUNTS.has(operator) || NUMERIC.has(type)) return "number";
            if (type === "date") return "date";
            return "text";
          }}
          getValueSources={(_field, operator) =>
            COMPARE.has(operator)
              ? [
                  { name: "value", value: "value", label: lang === "en" ? "value" : "值" },
                  { name: "field", value: "field", label: lang === "en" ? "field" : "字段" },
                ]
              : ["value"]
          }
          translations={translations(lang)}
          listsAsArrays
          showNotToggle
          resetOnOperatorChange={false}
        />
      </QueryBuilderAntD>
      </div>
      {value !== undefined && (
        <Typography.Text type="secondary" data-testid={`${testId}-reading`}>
          {t("design.form.condition.reading", { text: reading(value, fields, lang) })}
        </Typography.Text>
      )}
    </Space>
  );
}
