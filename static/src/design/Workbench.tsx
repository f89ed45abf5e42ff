// /design/{app}: the app's definitions by kind, with their status, and new definitions.
import { PlusOutlined } from "@ant-design/icons";
import { App, Badge, Breadcrumb, Button, Form, Input, Modal, Radio, Result, Space, Spin, Table, Tabs, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { problemText } from "../api";
import { useLang } from "../i18n";
import { useSession } from "../session";
import { canDesign } from "./access";
import { AppIcon } from "./icons";
import { createDefinition, isKinds, KINDS, label, useApp, useOverview, type Kinds } from "./data";
import { suggestKey } from "./forms/model/keys";
import { RULE_TYPES, skeleton } from "./skeletons";

const SINGULAR: Record<Kinds, string> = {
  forms: "form",
  flows: "flow",
  rules: "rule",
  reports: "report",
  dashboards: "dashboard",
  kpis: "kpi",
  calendars: "calendar",
};

export interface OverviewItem {
  kind: string;
  key: string;
  name: Record<string, string>;
  status: "draft" | "published" | "changed";
  published_version: number | null;
  problems: number;
  archived_at: string | null;
  updated_at: string;
}

export function StatusTag({ item }: { item: Pick<OverviewItem, "status" | "published_version" | "archived_at"> }) {
  const { t } = useLang();
  if (item.archived_at) return <Tag data-testid="design-status">{t("design.status.archived")}</Tag>;
  if (item.status === "draft") return <Tag color="default" data-testid="design-status">{t("design.status.draft")}</Tag>;
  if (item.status === "changed")
    return <Tag color="orange" style={{ color: "#873800" }} data-testid="design-status">{t("design.status.changed", { n: item.published_version ?? 0 })}</Tag>;
  return <Tag color="green" style={{ color: "#135200" }} data-testid="design-status">{t("design.status.published", { n: item.published_version ?? 0 })}</Tag>;
}

export function Workbench() {
  const { app = "" } = useParams();
  const { t, lang } = useLang();
  const { me } = useSession();
  const [params, setParams] = useSearchParams();
  const kinds: Kinds = isKinds(params.get("kind") ?? undefined) ? (params.get("kind") as Kinds) : "forms";
  const info = useApp(app);
  const overview = useOverview(app);
  const [creating, setCreating] = useState<Kinds | null>(null);
  if (!canDesign(me, app)) return <Result status="403" title={t("design.denied")} />;
  if (info.isError || overview.isError)
    return <Result status="error" title={t("common.error")} subTitle={problemText(info.error ?? overview.error)} />;
  if (!info.data || !overview.data) return <Spin />;
  const items = overview.data as unknown as OverviewItem[];
  const byKind = (k: Kinds) => items.filter((i) => i.kind === SINGULAR[k]);
  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }}>
      <Breadcrumb items={[{ title: <Link to="/design">{t("design.title")}</Link> }, { title: label(info.data.name, lang, app) }]} />
      <Space style={{ justifyContent: "space-between", width: "100%" }} wrap>
        <Typography.Title level={3} style={{ margin: 0 }}>
          <Space>
            <AppIcon name={(info.data as { icon?: string | null }).icon} />
            {label(info.data.name, lang, app)}
          </Space>
        </Typography.Title>
        <Button onClick={() => window.open(`/`, "_self")}>{t("design.runtime")}</Button>
      </Space>
      <Tabs
        activeKey={kinds}
        onChange={(k) => setParams({ kind: k })}
        items={KINDS.map((k) => ({
          key: k,
          label: (
            <span data-testid={`design-tab-${k}`}>
              {t(`design.kind.${k}`)} <Badge count={byKind(k).length} showZero color="#d9d9d9" style={{ color: "#333" }} />
            </span>
          ),
          children: (
            <KindTable app={app} kinds={k} items={byKind(k)} onNew={() => setCreating(k)} />
          ),
        }))}
      />
      {creating && <NewDefinition app={app} kinds={creating} taken={byKind(creating).map((i) => i.key)} onClose={() => setCreating(null)} />}
    </Space>
  );
}

function KindTable({ app, kinds, items, onNew }: { app: string; kinds: Kinds; items: OverviewItem[]; onNew: () => void }) {
  const { t, lang } = useLang();
  const navigate = useNavigate();
  const kindName = t(`design.kind.${kinds}`);
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Button type="primary" icon={<PlusOutlined />} onClick={onNew} data-testid={`design-new-${kinds}`}>
        {t("design.new", { kind: kindName })}
      </Button>
      <Table<OverviewItem>
        rowKey="key"
        size="middle"
        dataSource={items}
        pagination={false}
        locale={{ emptyText: <Typography.Text type="secondary">{t("design.empty", { kind: kindName })}</Typography.Text> }}
        onRow={(item) => ({
          onClick: () => navigate(`/design/${app}/${kinds}/${item.key}`),
          style: { cursor: "pointer" },
        })}
        columns={[
          {
            title: t("design.col.name"),
            key: "name",
            render: (_, item) => (
              <Link to={`/design/${app}/${kinds}/${item.key}`} data-testid={`design-open-${item.key}`}>
                {label(item.name, lang, item.key)}
              </Link>
            ),
          },
          { title: t("design.col.key"), dataIndex: "key", render: (key: string) => <Typography.Text code>{key}</Typography.Text> },
          { title: t("design.col.status"), key: "status", render: (_, item) => <StatusTag item={item} /> },
          {
            title: t("design.col.problems"),
            dataIndex: "problems",
            render: (n: number) => (n ? <Badge count={n} /> : <Typography.Text type="secondary">—</Typography.Text>),
          },
          { title: t("design.col.updated"), dataIndex: "updated_at", render: (at: string) => dayjs(at).format("YYYY-MM-DD HH:mm") },
        ]}
      />
    </Space>
  );
}

function NewDefinition({ app, kinds, taken, onClose }: { app: string; kinds: Kinds; taken: string[]; onClose: () => void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm();
  const [keyTouched, setKeyTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      const name = values.name_en ? { "zh-CN": values.name_zh, en: values.name_en } : { "zh-CN": values.name_zh };
      await createDefinition(app, kinds, skeleton(kinds, values.key, name, values.type ?? "rule"));
      onClose();
      navigate(`/design/${app}/${kinds}/${values.key}`);
    } catch (error) {
      message.error(problemText(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      title={t("design.new", { kind: t(`design.kind.${kinds}`) })}
      onCancel={onClose}
      onOk={submit}
      confirmLoading={busy}
      okText={t("common.ok")}
      cancelText={t("common.cancel")}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        onValuesChange={(changed) => {
          if ("key" in changed) setKeyTouched(true);
          if ("name_zh" in changed && !keyTouched) form.setFieldValue("key", suggestKey(changed.name_zh ?? "", taken));
        }}
      >
        {kinds === "rules" && (
          <Form.Item name="type" label={t("design.new.rule_type")} initialValue="rule">
            <Radio.Group
              optionType="button"
              options={RULE_TYPES.map((type) => ({ value: type, label: t(`design.new.rule_type.${type}`) }))}
              data-testid="definition-rule-type"
            />
          </Form.Item>
        )}
        <Form.Item name="name_zh" label={t("design.app.name_zh")} rules={[{ required: true, max: 500 }]}>
          <Input data-testid="definition-name-zh" />
        </Form.Item>
        <Form.Item name="name_en" label={t("design.app.name_en")} rules={[{ max: 500 }]}>
          <Input data-testid="definition-name-en" />
        </Form.Item>
        <Form.Item
          name="key"
          label={t("design.new.key")}
          extra={t("design.new.key.help")}
          rules={[
            { required: true, pattern: /^[a-z][a-z0-9_]{0,62}$/, message: t("design.app.key.help") },
            { validator: async (_, v) => (taken.includes(v) ? Promise.reject(new Error(`${v} ✗`)) : undefined) },
          ]}
        >
          <Input data-testid="definition-key" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
