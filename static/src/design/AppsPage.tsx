// /design: the apps the user may design, and (administrators) a new app.
import { PlusOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Empty, Form, Input, Modal, Select, Space, Typography } from "antd";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { problemText } from "../api";
import { client, data } from "../client";
import { useLang } from "../i18n";
import { useSession } from "../session";
import { label, useApps } from "./data";
import { canDesign } from "./access";
import { AppIcon, ICONS } from "./icons";

const TIME_ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/Berlin", "Europe/London", "America/New_York", "UTC"];

export function AppsPage() {
  const { t, lang } = useLang();
  const { me } = useSession();
  const apps = useApps();
  const [creating, setCreating] = useState(false);
  const mine = (apps.data ?? []).filter((a) => canDesign(me, a.key));
  return (
    <Space direction="vertical" size="large" style={{ width: "100%" }}>
      <Space style={{ justifyContent: "space-between", width: "100%" }}>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t("design.apps")}
        </Typography.Title>
        {me?.is_admin && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="design-new-app">
            {t("design.app.new")}
          </Button>
        )}
      </Space>
      {apps.isSuccess && mine.length === 0 && <Empty description={t("design.apps.empty")} />}
      <div style={{ display: "grid", gridTemplateColumns: "repeat(auto-fill, minmax(240px, 1fr))", gap: 16 }}>
        {mine.map((a) => (
          <Link key={a.key} to={`/design/${a.key}`} data-testid={`design-app-${a.key}`}>
            <Card hoverable>
              <Card.Meta
                avatar={<AppIcon name={(a as { icon?: string | null }).icon} />}
                title={label(a.name, lang, a.key)}
                description={a.key}
              />
            </Card>
          </Link>
        ))}
      </div>
      {creating && <NewApp onClose={() => setCreating(false)} />}
    </Space>
  );
}

function NewApp({ onClose }: { onClose: () => void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      const created = data(
        await client.POST("/api/v1/apps", {
          body: {
            key: values.key,
            name: values.name_en ? { "zh-CN": values.name_zh, en: values.name_en } : { "zh-CN": values.name_zh },
            icon: values.icon ?? null,
            time_zone: values.time_zone,
          },
        }),
      );
      message.success(t("design.app.created"));
      await queries.invalidateQueries({ queryKey: ["design", "apps"] });
      await queries.invalidateQueries({ queryKey: ["me"] });
      onClose();
      navigate(`/design/${created.key}`);
    } catch (error) {
      message.error(problemText(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open title={t("design.app.new")} onCancel={onClose} onOk={submit} confirmLoading={busy} okText={t("common.ok")} cancelText={t("common.cancel")} destroyOnHidden>
      <Form form={form} layout="vertical" initialValues={{ time_zone: "Asia/Shanghai", icon: "AppstoreOutlined" }}>
        <Form.Item name="name_zh" label={t("design.app.name_zh")} rules={[{ required: true, max: 500 }]}>
          <Input data-testid="app-name-zh" />
        </Form.Item>
        <Form.Item name="name_en" label={t("design.app.name_en")} rules={[{ max: 500 }]}>
          <Input data-testid="app-name-en" />
        </Form.Item>
        <Form.Item
          name="key"
          label={t("design.app.key")}
          extra={t("design.app.key.help")}
          rules={[{ required: true, pattern: /^[a-z][a-z0-9_]{0,62}$/, message: t("design.app.key.help") }]}
        >
          <Input data-testid="app-key" />
        </Form.Item>
        <Form.Item name="icon" label={t("design.app.icon")}>
          <Select
            options={ICONS.map((name) => ({ value: name, label: <Space><AppIcon name={name} />{name.replace("Outlined", "")}</Space> }))}
          />
        </Form.Item>
        <Form.Item name="time_zone" label={t("design.app.time_zone")}>
          <Select showSearch options={TIME_ZONES.map((z) => ({ value: z, label: z }))} />
        </Form.Item>
      </Form>
    </Modal>
  );
}


