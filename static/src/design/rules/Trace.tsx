// A rule's run on one record, opened from the record's timeline: which version acted, when, on
// which event, the values its condition read (highlighted, by label), the condition of that
// version in words, what it did or why it failed — beside the draft being edited.
import { useQuery } from "@tanstack/react-query";
import { Alert, Descriptions, Space, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { Link, useSearchParams } from "react-router-dom";
import { client, data } from "../../client";
import { useLang } from "../../i18n";
import { reading, type ConditionField, type Lang } from "../conditions/logic";
import type { Names } from "../actions/model";
import { traceReads } from "./model";
import "./strings";

export interface TraceEntry {
  id: number;
  at: string;
  action: string;
  payload: { rule?: string; version?: number | null; event?: string; values?: Record<string, unknown>; effects?: string[]; failed?: string[]; error?: string };
}

/** Where a trace link points: ``?trace=<form>.<record>.<audit entry id>``. */
export function traceOf(param: string | null): { form: string; record: number; id: number } | null {
  const match = /^([a-z][a-z0-9_]*)\.(\d+)\.(\d+)$/.exec(param ?? "");
  return match ? { form: match[1], record: Number(match[2]), id: Number(match[3]) } : null;
}

/** The trace the page was opened on, and the body of the version that acted. */
export function useTrace(app: string, rule: string) {
  const [params] = useSearchParams();
  const where = traceOf(params.get("trace"));
  const entry = useQuery({
    queryKey: ["design", "trace", app, where],
    enabled: where !== null,
    queryFn: async (): Promise<TraceEntry | null> => {
      const timeline = data(await client.GET("/api/v1/apps/{app}/records/{form}/{record_id}/timeline", { params: { path: { app, form: where!.form, record_id: where!.record } } })) as unknown as TraceEntry[];
      return timeline.find((e) => e.id === where!.id && e.payload.rule === rule) ?? null;
    },
  });
  const version = entry.data?.payload.version ?? null;
  const body = useQuery({
    queryKey: ["design", "trace-version", app, rule, version],
    enabled: version !== null,
    queryFn: async () => data(await client.GET("/api/v1/apps/{app}/{kinds}/{key}/versions/{number}", { params: { path: { app, kinds: "rules", key: rule, number: version! } } })).body as { condition?: unknown },
  });
  return { where, entry: entry.data ?? null, missing: where !== null && entry.isSuccess && entry.data === null, failed: entry.isError, condition: body.data?.condition };
}

/** A value read by the condition as people read it: an option's label, yes/no, empty. */
function valueText(path: string, value: unknown, names: Names, lang: string): string {
  if (value === null || value === undefined || value === "") return lang === "en" ? "empty" : "空";
  if (typeof value === "boolean") return value ? (lang === "en" ? "yes" : "是") : lang === "en" ? "no" : "否";
  return names.option?.(path, value) ?? String(value);
}

export function TracePanel({ app, trace, fields, names, draftDiffers }: { app: string; trace: ReturnType<typeof useTrace>; fields: ConditionField[]; names: Names; draftDiffers: boolean }) {
  const { t, lang } = useLang();
  if (!trace.where) return null;
  if (trace.failed || trace.missing) return <Alert type="warning" showIcon message={t("design.rule.trace.missing")} data-testid="rule-trace-missing" />;
  const entry = trace.entry;
  if (!entry) return null;
  const p = entry.payload;
  const read = traceReads(trace.condition, p.values ?? {});
  return (
    <Alert
      type={entry.action === "rule.failed" ? "error" : "warning"}
      showIcon
      data-testid="rule-trace"
      message={t("design.rule.trace.title", { version: p.version ?? "?", at: dayjs(entry.at).format("YYYY-MM-DD HH:mm:ss") })}
      description={
        <Space direction="vertical" size={4} style={{ width: "100%" }}>
          <Descriptions size="small" column={1}>
            <Descriptions.Item label={t("design.rule.trace.record")}>
              <Link to={`/apps/${app}/records/${trace.where.form}/${trace.where.record}`}>#{trace.where.record}</Link>
              {p.event ? ` · ${t(`audit.${p.event}`, {}, p.event)}` : ""}
            </Descriptions.Item>
            {trace.condition !== undefined && (
              <Descriptions.Item label={t("design.rule.trace.condition")}>
                {reading(trace.condition, fields, lang as Lang)}
                {read.held !== undefined && (
                  <Tag color={read.held ? "green" : "default"} style={{ marginLeft: 6, color: read.held ? "#135200" : undefined }} data-testid="rule-trace-held">
                    {t(read.held ? "design.rule.trace.held" : "design.rule.trace.not_held")}
                  </Tag>
                )}
              </Descriptions.Item>
            )}
            <Descriptions.Item label={t("design.rule.trace.values")}>
              <Space wrap size={4} data-testid="rule-trace-values">
                {read.fields.length === 0 && <Typography.Text type="secondary">{t("design.rule.trace.no_values")}</Typography.Text>}
                {read.fields.map(({ field, value }) => (
                  <Tag key={field} color="gold" style={{ color: "#613400" }}>
                    {names.field?.(field) ?? field.replace(/^\$ref\./, "")} = {valueText(field, value, names, lang)}
                  </Tag>
                ))}
              </Space>
            </Descriptions.Item>
            {p.error ? (
              <Descriptions.Item label={t("design.rule.trace.error")}>{p.error}</Descriptions.Item>
            ) : (
              <Descriptions.Item label={t("design.rule.trace.effects")}>{(p.effects ?? []).join("；") || "—"}</Descriptions.Item>
            )}
            {p.failed && p.failed.length > 0 && <Descriptions.Item label={t("design.rule.trace.failed")}>{p.failed.join("；")}</Descriptions.Item>}
          </Descriptions>
          {draftDiffers && <Typography.Text type="secondary">{t("design.rule.trace.draft_differs", { version: p.version ?? "?" })}</Typography.Text>}
        </Space>
      }
    />
  );
}
