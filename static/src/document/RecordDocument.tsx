// A record read as a document, the way DingTalk and Jiandaoyun show a submitted form: labels and
// values as text (option labels, people's names, referenced records' titles, local times, files
// as links, sub-tables as tables), empty fields left out with a switch to show them, and the
// layout's sections folding open and shut.
import { useQuery } from "@tanstack/react-query";
import { Button, Collapse, Descriptions, Image, Space, Table, Typography } from "antd";
import dayjs from "dayjs";
import { useMemo, useState, type ReactNode } from "react";
import type { FieldInfo, FormSchema } from "../api";
import { show, titleIn } from "../values/format";
import { referenceTitles, usePeopleNames } from "../values/queries";
import { useLang } from "../i18n";
import { documentSections, emptyCount, isWide, peopleIds, withoutEmpty, type DocItem, type Level } from "./model";

/** Labels dark enough on white for WCAG AA (antd's default grey is 3.4:1). */
const LABEL = { color: "#595959", whiteSpace: "nowrap" as const };

interface Stored {
  id: string;
  name?: string;
}

type Names = ReturnType<typeof usePeopleNames>;

function ReferenceValue({ app, field, id }: { app: string; field: FieldInfo; id: number }) {
  const target = field.reference?.form ?? "";
  const display = field.reference?.display ?? null;
  const titles = useQuery(referenceTitles(app, target, display, [id]));
  return <Typography.Text>{titleIn(titles.data, display, id)}</Typography.Text>;
}

function Files({ app, value, signature }: { app: string; value: unknown; signature: boolean }) {
  const files = (Array.isArray(value) ? value : [value]).filter((f): f is Stored => Boolean(f && typeof f === "object" && "id" in f));
  return (
    <Space wrap>
      {files.map((f) => {
        const url = `/api/v1/apps/${app}/attachments/${f.id}`;
        return signature ? (
          <Image key={f.id} src={url} alt={f.name ?? f.id} height={64} />
        ) : (
          <Typography.Link key={f.id} href={url} target="_blank" rel="noopener">
            {f.name ?? f.id}
          </Typography.Link>
        );
      })}
    </Space>
  );
}

function Value({ app, field, value, names }: { app: string; field: FieldInfo; value: unknown; names: Names }): ReactNode {
  const { t } = useLang();
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0)) {
    return <Typography.Text type="secondary">—</Typography.Text>;
  }
  switch (field.type) {
    case "user":
      return Array.isArray(value) ? value.map((v) => names.user(v as number)).join("、") : names.user(value as number);
    case "group":
      return Array.isArray(value) ? value.map((v) => names.group(v as number)).join("、") : names.group(value as number);
    case "reference":
      return typeof value === "number" ? <ReferenceValue app={app} field={field} id={value} /> : String(value);
    case "checkbox":
      return value ? t("common.yes") : t("common.no");
    case "datetime":
      return typeof value === "string" ? dayjs(value).format("YYYY-MM-DD HH:mm") : String(value);
    case "attachment":
    case "attachments":
    case "signature":
      return <Files app={app} value={value} signature={field.type === "signature"} />;
    case "textarea":
      return <Typography.Paragraph style={{ whiteSpace: "pre-wrap", marginBottom: 0 }}>{String(value)}</Typography.Paragraph>;
    case "rich_text":
      // drawn as the formatted text it is, not its tags: the server cleans every rich text value
      // it stores (records/service.py, nh3's allowed tags and attributes), as it does a help
      // article's body
      return <div dangerouslySetInnerHTML={{ __html: String(value) }} />;
    case "sub_table": {
      const rows = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
      // columns keep a readable width on a phone: the table scrolls rather than stacking characters
      const wide = { style: { minWidth: 88 } };
      const columns = (field.fields ?? []).map((column) => ({
        key: column.key,
        title: column.label,
        onCell: () => wide,
        onHeaderCell: () => wide,
        render: (_: unknown, row: Record<string, unknown>) => <Value app={app} field={column} value={row[column.key]} names={names} />,
      }));
      // the table scrolls inside its own block (reachable by keyboard) instead of widening the page
      return (
        <div style={{ overflowX: "auto" }} tabIndex={0} role="region" aria-label={field.label}>
          <Table size="small" bordered pagination={false} rowKey={(row) => String(row._id ?? rows.indexOf(row))} columns={columns} dataSource={rows} />
        </div>
      );
    }
    default:
      return show(field, value);
  }
}

function Items({ app, items, names }: { app: string; items: DocItem[]; names: Names }) {
  // sub-tables are blocks of their own below the other fields, across the whole width (inside a
  // description's cell a table either widens the page or is squeezed to nothing on a phone)
  const tables = items.filter((i) => i.field.type === "sub_table");
  const rest = items.filter((i) => i.field.type !== "sub_table");
  return (
    <>
      {rest.length > 0 && (
        <Descriptions
          size="small"
          column={{ xs: 1, sm: 1, md: 2 }}
          styles={{ label: LABEL }}
          items={rest.map((item) => ({
            key: item.field.key,
            label: item.field.label,
            span: isWide(item.field) ? "filled" : 1,
            children: (
              <span data-field={item.field.key}>
                <Value app={app} field={item.field} value={item.value} names={names} />
              </span>
            ),
          }))}
        />
      )}
      {tables.map((item) => (
        <div key={item.field.key} data-field={item.field.key} style={{ marginBottom: 12 }}>
          <Typography.Text style={{ ...LABEL, display: "block", marginBottom: 4 }}>{item.field.label}</Typography.Text>
          <Value app={app} field={item.field} value={item.value} names={names} />
        </div>
      ))}
    </>
  );
}

/** The record as a document. ``keys`` shows only those fields (a task's summary); without them
every field the permissions let the reader see, in the layout's sections. */
export function RecordDocument(props: {
  app: string;
  schema: FormSchema;
  data: Record<string, unknown>;
  keys?: string[];
  permissions?: Record<string, Level>;
  testId?: string;
}) {
  const { app, schema, data, keys, permissions } = props;
  const { t } = useLang();
  const [showEmpty, setShowEmpty] = useState(false);
  const all = useMemo(() => documentSections(schema, data, { keys, permissions }), [schema, data, keys, permissions]);
  const names = usePeopleNames(app, peopleIds(all));
  const sections = withoutEmpty(all, showEmpty);
  const empty = emptyCount(all);
  const titled = sections.filter((s) => s.title);
  return (
    <div data-testid={props.testId ?? "record-document"}>
      {sections
        .filter((s) => !s.title)
        .map((s, i) => (
          <Items key={`plain-${i}`} app={app} items={s.items} names={names} />
        ))}
      {titled.length > 0 && (
        <Collapse
          ghost
          defaultActiveKey={titled.map((s) => s.title!)}
          items={titled.map((s) => ({
            key: s.title!,
            label: <Typography.Text strong>{s.title}</Typography.Text>,
            children: <Items app={app} items={s.items} names={names} />,
          }))}
        />
      )}
      {sections.length === 0 && <Typography.Text type="secondary">{t("document.nothing")}</Typography.Text>}
      {empty > 0 && (
        <Button type="link" size="small" style={{ paddingInline: 0 }} onClick={() => setShowEmpty((v) => !v)} data-testid="document-empty-toggle">
          {showEmpty ? t("document.hide_empty") : t("document.show_empty", { n: empty })}
        </Button>
      )}
    </div>
  );
}
