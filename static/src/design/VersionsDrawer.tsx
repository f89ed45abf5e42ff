// The published versions (author, time, note), the differences between any two (or a version and
// the draft), and "restore this version as the draft".
import { App, Button, Drawer, Empty, Popconfirm, Select, Space, Spin, Table, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { problemText } from "../api";
import { useLang } from "../i18n";
import { restoreVersion, useDiff, useVersions, type Kinds, type Version } from "./data";
import { DiffView, type LabelledDiff, type PointerChange } from "./DiffView";

export function VersionsDrawer(props: {
  app: string;
  kinds: Kinds;
  definitionKey: string;
  lockVersion: () => number | null;
  onRestored: () => void;
  onClose: () => void;
}) {
  const { app, kinds, definitionKey: key } = props;
  const { t } = useLang();
  const { message } = App.useApp();
  const versions = useVersions(app, kinds, key);
  const list = (versions.data ?? []) as (Version & { author?: string | null })[];
  const newest = list[0]?.version ?? null;
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | "draft">("draft");
  const left = from ?? (to === "draft" ? newest : null);
  const diff = useDiff(app, kinds, key, left, to);
  const choices = [
    { value: "draft", label: t("design.versions.draft") },
    ...list.map((v) => ({ value: String(v.version), label: `v${v.version}` })),
  ];
  return (
    <Drawer open width={720} title={t("design.versions")} onClose={props.onClose} data-testid="design-versions-drawer">
      {versions.isLoading && <Spin />}
      {versions.isSuccess && list.length === 0 && <Empty description={t("design.versions.none")} />}
      {list.length > 0 && (
        <Space direction="vertical" size="large" style={{ width: "100%" }}>
          <Table
            size="small"
            rowKey="version"
            pagination={false}
            dataSource={list}
            columns={[
              { title: "#", dataIndex: "version", render: (n: number) => `v${n}` },
              { title: t("design.versions.author"), key: "author", render: (_, v) => v.author ?? (v.author_id ? `#${v.author_id}` : "—") },
              { title: t("design.col.updated"), dataIndex: "created_at", render: (at: string) => dayjs(at).format("YYYY-MM-DD HH:mm") },
              { title: t("design.publish.note"), dataIndex: "note", render: (note: string) => note || "—" },
              {
                title: "",
                key: "actions",
                render: (_, v) => (
                  <Space>
                    <Button size="small" onClick={() => { setFrom(v.version); setTo("draft"); }}>
                      {t("design.versions.compare")}
                    </Button>
                    <Popconfirm
                      title={t("design.versions.restore.confirm", { n: v.version })}
                      okText={t("common.ok")}
                      cancelText={t("common.cancel")}
                      onConfirm={async () => {
                        try {
                          await restoreVersion(app, kinds, key, v.version, props.lockVersion() ?? 1);
                          message.success(t("design.versions.restored", { n: v.version }));
                          props.onRestored();
                          props.onClose();
                        } catch (error) {
                          message.error(problemText(error));
                        }
                      }}
                    >
                      <Button size="small" data-testid={`design-restore-${v.version}`}>
                        {t("design.versions.restore")}
                      </Button>
                    </Popconfirm>
                  </Space>
                ),
              },
            ]}
          />
          <Space wrap>
            <Select
              aria-label={t("design.versions.from")}
              style={{ width: 120 }}
              value={left === null ? undefined : String(left)}
              options={choices.filter((c) => c.value !== "draft")}
              onChange={(v) => setFrom(Number(v))}
              data-testid="design-diff-from"
            />
            →
            <Select
              aria-label={t("design.versions.to")}
              style={{ width: 120 }}
              value={String(to)}
              options={choices}
              onChange={(v) => setTo(v === "draft" ? "draft" : Number(v))}
              data-testid="design-diff-to"
            />
          </Space>
          {left !== null && (
            <div>
              <Typography.Title level={5}>
                {t("design.diff.title", { from: `v${left}`, to: to === "draft" ? t("design.versions.draft") : `v${to}` })}
              </Typography.Title>
              {diff.isLoading && <Spin />}
              {diff.isError && <Typography.Text type="danger">{problemText(diff.error)}</Typography.Text>}
              {diff.data && <DiffView diff={diff.data as unknown as LabelledDiff | PointerChange[]} />}
            </div>
          )}
        </Space>
      )}
    </Drawer>
  );
}
