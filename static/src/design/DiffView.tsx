// What changed between two versions, for people: for forms, fields added, removed and changed by
// their labels with each changed property's before and after; for other kinds, the changed parts.
import { Empty, List, Space, Table, Tag, Typography } from "antd";
import { useLang } from "../i18n";
import { label } from "./data";

export interface PropertyChange {
  property: string;
  old?: unknown;
  new?: unknown;
}

export interface FieldChange {
  op: "added" | "removed" | "changed";
  key: string;
  label?: Record<string, string> | null;
  old_label?: Record<string, string> | null;
  parent?: string | null;
  changes?: PropertyChange[];
}

export interface PointerChange {
  op: "added" | "removed" | "changed";
  path: string;
  old?: unknown;
  new?: unknown;
}

export interface LabelledDiff {
  fields: FieldChange[];
  form?: PropertyChange[];
  layout?: PropertyChange[];
}

const COLORS = { added: "green", removed: "red", changed: "blue" } as const;

export function shown(value: unknown, lang: string, none: string): string {
  if (value === undefined || value === null || value === "") return none;
  if (typeof value === "object" && !Array.isArray(value) && "zh-CN" in (value as object)) return label(value, lang);
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "✓" : "✗";
  return JSON.stringify(value, (_k, v) => (v && typeof v === "object" && "zh-CN" in v ? label(v, lang) : v));
}

function Properties({ changes }: { changes: PropertyChange[] }) {
  const { t, lang } = useLang();
  const none = t("design.diff.empty");
  return (
    <Table<PropertyChange>
      size="small"
      pagination={false}
      rowKey="property"
      dataSource={changes}
      columns={[
        { title: t("design.diff.property"), dataIndex: "property", render: (p: string) => t(`design.prop.${p}`, undefined, p) },
        { title: t("design.diff.old"), key: "old", render: (_, c) => <Typography.Text delete={c.old !== undefined}>{shown(c.old, lang, none)}</Typography.Text> },
        { title: t("design.diff.new"), key: "new", render: (_, c) => shown(c.new, lang, none) },
      ]}
    />
  );
}

export function DiffView({ diff }: { diff: LabelledDiff | PointerChange[] }) {
  const { t, lang } = useLang();
  if (Array.isArray(diff)) {
    if (!diff.length) return <Empty description={t("design.diff.none")} />;
    return (
      <List
        size="small"
        dataSource={diff}
        renderItem={(c) => (
          <List.Item data-testid="design-diff-item">
            <Space wrap>
              <Tag color={COLORS[c.op]}>{t(`design.diff.${c.op}`)}</Tag>
              <Typography.Text code>{c.path || "/"}</Typography.Text>
              {c.op !== "added" && <Typography.Text delete>{shown(c.old, lang, t("design.diff.empty"))}</Typography.Text>}
              {c.op !== "removed" && <Typography.Text>{shown(c.new, lang, t("design.diff.empty"))}</Typography.Text>}
            </Space>
          </List.Item>
        )}
      />
    );
  }
  const empty = !diff.fields.length && !diff.form?.length && !diff.layout?.length;
  if (empty) return <Empty description={t("design.diff.none")} />;
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      {diff.fields.map((f) => {
        const name = label(f.label ?? f.old_label, lang, f.key);
        const renamed = f.old_label && f.label && label(f.old_label, lang) !== label(f.label, lang);
        return (
          <div key={`${f.parent ?? ""}/${f.key}`} data-testid="design-diff-field" data-op={f.op}>
            <Space wrap>
              <Tag color={COLORS[f.op]}>{t(`design.diff.${f.op}`)}</Tag>
              <Typography.Text strong>
                {f.parent ? `${f.parent} › ` : ""}
                {name}
              </Typography.Text>
              {renamed && (
                <Typography.Text type="secondary">
                  ({label(f.old_label, lang)} → {label(f.label, lang)})
                </Typography.Text>
              )}
            </Space>
            {f.op === "changed" && f.changes && f.changes.length > 0 && <Properties changes={f.changes} />}
          </div>
        );
      })}
      {diff.form && diff.form.length > 0 && (
        <div>
          <Typography.Text strong>{t("design.diff.form")}</Typography.Text>
          <Properties changes={diff.form} />
        </div>
      )}
      {diff.layout && diff.layout.length > 0 && (
        <div>
          <Typography.Text strong>{t("design.diff.layout")}</Typography.Text>
          <Properties changes={diff.layout} />
        </div>
      )}
    </Space>
  );
}
