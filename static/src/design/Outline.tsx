// A definition of a kind without its visual designer yet, drawn as an outline people can read:
// names and labels instead of raw keys where the body has them, nested parts as a tree.
import { Alert, Tree, Typography } from "antd";
import type { DataNode } from "antd/es/tree";
import { useLang } from "../i18n";
import type { Body } from "./data";

function isText(value: unknown): value is Record<string, string> {
  return Boolean(value) && typeof value === "object" && !Array.isArray(value) && "zh-CN" in (value as object);
}

function scalar(value: unknown, lang: string): string {
  if (value === null || value === undefined) return "—";
  if (isText(value)) return value[lang] || value["zh-CN"];
  if (typeof value === "boolean") return value ? "✓" : "✗";
  return String(value);
}

function nodes(value: unknown, path: string, lang: string): DataNode[] {
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i + 1), v])
    : Object.entries(value as Record<string, unknown>);
  return entries.map(([name, child]) => {
    const key = `${path}/${name}`;
    if (child && typeof child === "object" && !isText(child)) {
      const record = child as Record<string, unknown>;
      const title = !Array.isArray(child) && (record.label ?? record.name ?? record.key ?? record.id);
      return {
        key,
        title: (
          <span>
            <Typography.Text type="secondary">{name}</Typography.Text>
            {title !== undefined && title !== false ? <> · {scalar(title, lang)}</> : null}
          </span>
        ),
        children: nodes(child, key, lang),
      };
    }
    return {
      key,
      isLeaf: true,
      title: (
        <span>
          <Typography.Text type="secondary">{name}</Typography.Text>: {scalar(child, lang)}
        </span>
      ),
    };
  });
}

export function Outline({ body }: { body: Body }) {
  const { t, lang } = useLang();
  return (
    <>
      <Alert type="info" showIcon message={t("design.outline.note")} style={{ marginBottom: 12 }} />
      <Typography.Title level={5}>{t("design.outline")}</Typography.Title>
      <Tree showLine defaultExpandAll={false} defaultExpandedKeys={[""]} treeData={nodes(body, "", lang)} />
    </>
  );
}
