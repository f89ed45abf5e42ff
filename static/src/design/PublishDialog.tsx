// Publishing: the change note, the differences from the published version and what they mean for
// the data (values in removed fields, options in use, running flow instances, who names this
// definition). Nothing publishes before the user has seen them.
import { App, Alert, Input, List, Modal, Space, Spin, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { problemText } from "../api";
import { client, data } from "../client";
import { useLang } from "../i18n";
import { label, useImpact, usePublish, type Kinds, type Problem } from "./data";
import { DiffView, type LabelledDiff, type PointerChange } from "./DiffView";

export interface Impact {
  diff: LabelledDiff | PointerChange[];
  published_version: number | null;
  removed_values?: { field: string; label?: Record<string, string> | null; records: number }[];
  options_in_use?: { field: string; label?: Record<string, string> | null; option: string; option_label?: Record<string, string> | null; records: number }[];
  required_empty?: { field: string; label?: Record<string, string> | null; records: number }[];
  running?: { version: number; instances: number; nodes?: { node: string; label?: Record<string, string> | null; instances: number; in_draft?: boolean }[] }[];
  referenced_by?: { kind: string; key: string }[];
}

export function impactLines(impact: Impact, t: (k: string, v?: Record<string, string | number>) => string, lang: string): string[] {
  const lines: string[] = [];
  for (const r of impact.removed_values ?? [])
    lines.push(t("design.impact.removed_values", { field: label(r.label, lang, r.field), n: r.records }));
  for (const o of impact.options_in_use ?? [])
    lines.push(t("design.impact.option_in_use", { field: label(o.label, lang, o.field), option: label(o.option_label, lang, o.option), n: o.records }));
  for (const r of impact.required_empty ?? [])
    lines.push(t("design.impact.required_empty", { field: label(r.label, lang, r.field), n: r.records }));
  for (const r of impact.running ?? []) {
    if (!r.instances) continue;
    if (!r.nodes?.length) {
      lines.push(t("design.impact.running", { n: r.instances, version: r.version }));
      continue;
    }
    const at = r.nodes.map((n) => `${label(n.label, lang, n.node)} ${n.instances}`).join(lang === "en" ? ", " : "、");
    lines.push(t("design.impact.running_at", { n: r.instances, version: r.version, nodes: at }));
    for (const n of r.nodes) if (n.in_draft === false) lines.push(t("design.impact.node_removed", { node: label(n.label, lang, n.node), n: n.instances }));
  }
  if (impact.referenced_by?.length)
    lines.push(t("design.impact.referenced_by", { list: impact.referenced_by.map((r) => `${r.kind} ${r.key}`).join("、") }));
  return lines;
}

export function PublishDialog(props: {
  app: string;
  kinds: Kinds;
  definitionKey: string;
  name: string;
  problems: Problem[];
  lockVersion: number | null;
  onClose: () => void;
  /** After publishing: whether instances still run on older versions (a flow's may be moved). */
  onPublished: (running: number) => void;
}) {
  const { app, kinds, definitionKey: key } = props;
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const [note, setNote] = useState("");
  const impact = useImpact(app, kinds, key, true);
  // a rule or decision table is tried on the stored records: how many it would treat differently
  const whatIf = useQuery({
    queryKey: ["design", "publish-whatif", app, key],
    queryFn: async () => data(await client.POST("/api/v1/apps/{app}/rules/{key}/simulate", { params: { path: { app, key } }, body: { limit: 200 } })),
    enabled: kinds === "rules",
    retry: false,
    staleTime: 0,
  });
  const publish = usePublish(app, kinds, key);
  const found = impact.data as unknown as Impact | undefined;
  const blocked = props.problems.length > 0;
  const unchanged = found ? (Array.isArray(found.diff) ? found.diff.length === 0 : !found.diff.fields.length && !found.diff.form?.length && !found.diff.layout?.length) && found.published_version !== null : false;
  const lines = found ? impactLines(found, t, lang) : [];
  const tried = whatIf.data;
  if (tried && tried.published_version !== null && tried.changed !== null && tried.evaluated > 0)
    lines.push(
      tried.changed
        ? t("design.impact.rule_changes", { n: tried.evaluated, changed: tried.changed, version: tried.published_version })
        : t("design.impact.rule_same", { n: tried.evaluated, version: tried.published_version }),
    );
  return (
    <Modal
      open
      width={760}
      title={t("design.publish.title", { name: props.name })}
      okText={t("design.publish.confirm")}
      cancelText={t("common.cancel")}
      okButtonProps={{ disabled: blocked || unchanged || !found, "data-testid": "design-publish-confirm" }}
      confirmLoading={publish.isPending}
      onCancel={props.onClose}
      onOk={async () => {
        try {
          const done = await publish.mutateAsync({ note, lock_version: props.lockVersion });
          message.success(t("design.publish.done", { n: done.version }));
          for (const w of done.warnings) message.warning(w.message);
          props.onPublished((found?.running ?? []).reduce((sum, r) => sum + r.instances, 0));
          props.onClose();
        } catch (error) {
          message.error(problemText(error));
        }
      }}
    >
      <Space direction="vertical" size="middle" style={{ width: "100%" }} data-testid="design-publish-dialog">
        {blocked && <Alert type="error" showIcon message={t("design.publish.blocked", { n: props.problems.length })} />}
        {unchanged && <Alert type="info" showIcon message={t("design.publish.unchanged")} />}
        <div>
          <Typography.Text strong>{t("design.publish.note")}</Typography.Text>
          <Input.TextArea
            rows={2}
            maxLength={2000}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            placeholder={t("design.publish.note.placeholder")}
            aria-label={t("design.publish.note")}
            data-testid="design-publish-note"
          />
        </div>
        {impact.isLoading && <Spin />}
        {impact.isError && <Alert type="error" message={problemText(impact.error)} />}
        {found && (
          <>
            <div data-testid="design-publish-impact">
              <Typography.Title level={5}>{t("design.publish.impact")}</Typography.Title>
              {lines.length ? (
                <List size="small" dataSource={lines} renderItem={(line) => <List.Item>{line}</List.Item>} />
              ) : (
                <Typography.Text type="secondary">{t("design.publish.no_impact")}</Typography.Text>
              )}
            </div>
            <div data-testid="design-publish-diff">
              <Typography.Title level={5}>
                {found.published_version === null ? t("design.publish.first") : t("design.publish.changes")}
              </Typography.Title>
              {found.published_version !== null && <DiffView diff={found.diff} />}
            </div>
          </>
        )}
      </Space>
    </Modal>
  );
}
