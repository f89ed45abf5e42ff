// Moving running instances of an older version onto the published one: where the instances are,
// which node of the new version each of those nodes becomes (same type only), the engine's
// preview of every instance, then all of them at once — or none, if one cannot move.
import { App, Alert, Empty, Modal, Select, Space, Spin, Table, Tag, Typography } from "antd";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { problemText } from "../../api";
import { client, data } from "../../client";
import { useLang } from "../../i18n";
import { useSession } from "../../session";
import { label, useImpact } from "../data";
import { mappingComplete, mappingOf, mappingRows, movable, nodesOf, type MappingRow, type RunningVersion } from "./model";
import "./strings";

interface Outcome {
  instance: number;
  ok: boolean;
  from?: string[];
  to?: string[];
  problem?: string;
}

function useVersionNodes(app: string, key: string, number: number | null) {
  return useQuery({
    queryKey: ["design", "version", app, "flows", key, number],
    queryFn: async () => nodesOf(data(await client.GET("/api/v1/apps/{app}/{kinds}/{key}/versions/{number}", { params: { path: { app, kinds: "flows", key, number: number ?? 0 } } })).body),
    enabled: number !== null,
  });
}

export function MigrationDialog({ app, flowKey, target, onClose }: { app: string; flowKey: string; target: number | null; onClose: () => void }) {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const { me } = useSession();
  const queries = useQueryClient();
  const impact = useImpact(app, "flows", flowKey, true);
  const running = ((impact.data as { running?: RunningVersion[] } | undefined)?.running ?? []) as RunningVersion[];
  const sources = movable(running, target);
  const [picked, setPicked] = useState<number | null>(null);
  const source = picked ?? sources[0]?.version ?? null;
  const sourceNodes = useVersionNodes(app, flowKey, source);
  const targetNodes = useVersionNodes(app, flowKey, target);
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<Outcome[] | null>(null);
  const [busy, setBusy] = useState(false);

  const version = sources.find((s) => s.version === source);
  const rows: MappingRow[] =
    version && sourceNodes.data && targetNodes.data
      ? mappingRows(version.nodes ?? [], sourceNodes.data, targetNodes.data).map((r) => (chosen[r.node] ? { ...r, target: chosen[r.node] } : r))
      : [];
  const complete = rows.length > 0 && mappingComplete(rows);
  const allowed = Boolean(me?.is_admin);

  const send = async (apply: boolean) => {
    if (source === null || target === null) return;
    setBusy(true);
    try {
      const done = data(
        await client.POST("/api/v1/apps/{app}/flows/{key}/migrate", {
          params: { path: { app, key: flowKey } },
          body: { from: source, to: target, mapping: mappingOf(rows), apply },
        }),
      );
      setOutcome(done.instances as unknown as Outcome[]);
      if (apply) {
        message.success(t("design.flow.migrate.done", { n: done.instances.length, version: target }));
        await queries.invalidateQueries({ queryKey: ["design"] });
        onClose();
      }
    } catch (error) {
      message.error(problemText(error));
    } finally {
      setBusy(false);
    }
  };

  const refused = outcome?.filter((o) => !o.ok) ?? [];
  const nodeName = (id: string, from: "source" | "target") => {
    const list = from === "source" ? sourceNodes.data : targetNodes.data;
    const found = list?.find((n) => n.id === id);
    return found ? label(found.label, lang, id) : id;
  };

  return (
    <Modal
      open
      width={820}
      title={t("design.flow.migrate.title", { version: target ?? "?" })}
      okText={outcome && refused.length === 0 ? t("design.flow.migrate.apply") : t("design.flow.migrate.preview")}
      cancelText={t("common.cancel")}
      okButtonProps={{ disabled: !allowed || !complete || source === null || (outcome !== null && refused.length > 0), "data-testid": outcome && refused.length === 0 ? "flow-migrate-apply" : "flow-migrate-preview" }}
      confirmLoading={busy}
      onCancel={onClose}
      onOk={() => void send(outcome !== null && refused.length === 0)}
    >
      <Space direction="vertical" size="middle" style={{ width: "100%" }} data-testid="flow-migrate-dialog">
        {!allowed && <Alert type="warning" showIcon message={t("design.flow.migrate.admin_only")} />}
        <Typography.Text type="secondary">{t("design.flow.migrate.help")}</Typography.Text>
        {impact.isLoading && <Spin />}
        {impact.isError && <Alert type="error" message={problemText(impact.error)} />}
        {impact.isSuccess && sources.length === 0 && <Empty description={t("design.flow.migrate.none")} />}
        {sources.length > 0 && (
          <>
            <Space wrap>
              <Typography.Text>{t("design.flow.migrate.from")}</Typography.Text>
              <Select
                value={source}
                style={{ minWidth: 220 }}
                onChange={(v: number) => {
                  setPicked(v);
                  setChosen({});
                  setOutcome(null);
                }}
                options={sources.map((s) => ({ value: s.version, label: t("design.flow.migrate.version", { version: s.version, n: s.instances }) }))}
                aria-label={t("design.flow.migrate.from")}
                data-testid="flow-migrate-source"
              />
              <Typography.Text>→ v{target}</Typography.Text>
            </Space>
            <Table<MappingRow>
              size="small"
              rowKey="node"
              pagination={false}
              loading={sourceNodes.isLoading || targetNodes.isLoading}
              dataSource={rows}
              data-testid="flow-migrate-mapping"
              columns={[
                { title: t("design.flow.migrate.node"), render: (_, r) => `${label(r.label, lang, r.node)}（${r.node}）` },
                { title: t("design.flow.migrate.instances"), dataIndex: "instances", width: 90 },
                {
                  title: t("design.flow.migrate.to"),
                  render: (_, r) =>
                    r.options.length === 0 ? (
                      <Typography.Text type="danger">{t("design.flow.migrate.no_counterpart")}</Typography.Text>
                    ) : (
                      <Select
                        size="small"
                        style={{ minWidth: 200 }}
                        value={r.target}
                        placeholder={t("design.flow.migrate.pick")}
                        status={r.target === null ? "warning" : undefined}
                        onChange={(v: string) => {
                          setChosen((c) => ({ ...c, [r.node]: v }));
                          setOutcome(null);
                        }}
                        options={r.options.map((o) => ({ value: o.id, label: `${label(o.label, lang, o.id)}（${o.id}）` }))}
                        aria-label={t("design.flow.migrate.to_of", { node: label(r.label, lang, r.node) })}
                        data-testid={`flow-migrate-to-${r.node}`}
                      />
                    ),
                },
              ]}
            />
          </>
        )}
        {outcome && (
          <div data-testid="flow-migrate-outcome">
            {refused.length ? (
              <Alert type="error" showIcon message={t("design.flow.migrate.refused", { n: refused.length })} />
            ) : (
              <Alert type="success" showIcon message={t("design.flow.migrate.ready", { n: outcome.length })} />
            )}
            <Table<Outcome>
              size="small"
              rowKey="instance"
              style={{ marginTop: 8 }}
              pagination={outcome.length > 10 ? { pageSize: 10 } : false}
              dataSource={outcome}
              columns={[
                { title: t("design.flow.migrate.instance"), dataIndex: "instance", width: 90, render: (v: number) => `#${v}` },
                {
                  title: t("design.flow.migrate.result"),
                  render: (_, o) =>
                    o.ok ? (
                      <Space wrap size={4}>
                        <Tag color="green" style={{ color: "#135200" }}>
                          {t("design.flow.migrate.ok")}
                        </Tag>
                        {(o.from ?? []).map((n) => nodeName(n, "source")).join("、")} → {(o.to ?? []).map((n) => nodeName(n, "target")).join("、")}
                      </Space>
                    ) : (
                      <Typography.Text type="danger">{o.problem}</Typography.Text>
                    ),
                },
              ]}
            />
          </div>
        )}
      </Space>
    </Modal>
  );
}
