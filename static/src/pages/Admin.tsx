// Administration: users, groups (tree, managers, members), roles and grants, app packages.
import { DownloadOutlined, UploadOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  List,
  Select,
  Space,
  Switch,
  Table,
  Tabs,
  Tag,
  Tree,
  Typography,
  Upload,
} from "antd";
import { useState } from "react";
import { api, ApiError, type AppInfo } from "../api";
import { useLang } from "../i18n";

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  email: string | null;
  is_active: boolean;
  lock_version: number;
  last_login_at: string | null;
}

interface GroupRow {
  id: number;
  key: string;
  name: string;
  parent_id: number | null;
  manager_id: number | null;
  lock_version: number;
}

interface RoleRow {
  id: number;
  key: string;
  name: string;
  is_system: boolean;
}

interface GrantRow {
  id: number;
  app_key: string;
  form_key: string;
  actions: string[];
  scope: string;
}

interface PackageReport {
  app: string;
  action: string;
  version: string;
  previous_version: string | null;
  dry_run: boolean;
  counts: Record<string, number>;
  changes: { kind: string; key: string; action: string; details: string[] }[];
  directory: string[];
  data: string[];
}

function problem(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = Object.entries(error.errors).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join("; ") : v}`);
    return [error.message, ...fields].join("\n");
  }
  return String(error);
}

function useUsers() {
  return useQuery({ queryKey: ["admin-users"], queryFn: () => api<{ items: UserRow[] }>("/users", { query: { limit: 500 } }) });
}

function Users() {
  const { t } = useLang();
  const { message } = App.useApp();
  const users = useUsers();
  const roles = useQuery({ queryKey: ["admin-roles"], queryFn: () => api<RoleRow[]>("/roles") });
  const [form] = Form.useForm();
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Card size="small" title={t("admin.user.new")}>
        <Form
          form={form}
          layout="inline"
          onFinish={async (values: Record<string, unknown>) => {
            try {
              await api("/users", { body: { ...values, roles: values.roles ?? [] } });
              message.success(t("record.saved"));
              form.resetFields();
              await users.refetch();
            } catch (error) {
              message.error(problem(error));
            }
          }}
        >
          <Form.Item name="username" rules={[{ required: true }]}>
            <Input placeholder={t("login.username")} />
          </Form.Item>
          <Form.Item name="display_name">
            <Input placeholder={t("admin.user.name")} />
          </Form.Item>
          <Form.Item name="password" rules={[{ required: true }]}>
            <Input.Password placeholder={t("login.password")} autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="roles">
            <Select mode="multiple" style={{ minWidth: 200 }} placeholder={t("admin.roles")}
              options={(roles.data ?? []).map((r) => ({ value: r.key, label: r.name }))} />
          </Form.Item>
          <Button type="primary" htmlType="submit">{t("records.new")}</Button>
        </Form>
      </Card>
      <Table<UserRow>
        rowKey="id"
        size="small"
        loading={users.isLoading}
        dataSource={users.data?.items ?? []}
        pagination={{ pageSize: 20 }}
        scroll={{ x: true }}
        columns={[
          { key: "id", title: "#", dataIndex: "id" },
          { key: "username", title: t("login.username"), dataIndex: "username" },
          { key: "display_name", title: t("admin.user.name"), dataIndex: "display_name" },
          { key: "email", title: "E-mail", dataIndex: "email" },
          {
            key: "active",
            title: t("admin.user.active"),
            render: (_: unknown, row) => (
              <Switch
                size="small"
                checked={row.is_active}
                onChange={async (checked) => {
                  try {
                    await api(`/users/${row.id}`, { method: "PATCH", body: { is_active: checked, lock_version: row.lock_version } });
                    await users.refetch();
                  } catch (error) {
                    message.error(problem(error));
                  }
                }}
              />
            ),
          },
        ]}
      />
    </Space>
  );
}

function Groups() {
  const { t } = useLang();
  const { message } = App.useApp();
  const groups = useQuery({ queryKey: ["admin-groups"], queryFn: () => api<GroupRow[]>("/groups") });
  const users = useUsers();
  const [selected, setSelected] = useState<GroupRow | null>(null);
  const members = useQuery({
    queryKey: ["admin-members", selected?.id],
    enabled: selected !== null,
    queryFn: () => api<UserRow[]>(`/groups/${selected!.id}/members`),
  });
  const rows = groups.data ?? [];
  const build = (parent: number | null): { key: number; title: string; children: unknown[] }[] =>
    rows.filter((g) => g.parent_id === parent).map((g) => ({ key: g.id, title: `${g.name} (${g.key})`, children: build(g.id) }));
  const userOptions = (users.data?.items ?? []).map((u) => ({ value: u.id, label: `${u.display_name} (${u.username})` }));
  const [adding] = Form.useForm();
  return (
    <div style={{ display: "flex", gap: 16, flexWrap: "wrap" }}>
      <Card size="small" style={{ flex: "1 1 100%" }} title={t("admin.group.new")}>
        <Form
          form={adding}
          layout="inline"
          onFinish={async (values: { key: string; name: string; parent_id?: number }) => {
            try {
              await api("/groups", { body: { ...values, parent_id: values.parent_id ?? null } });
              adding.resetFields();
              await groups.refetch();
            } catch (error) {
              message.error(problem(error));
            }
          }}
        >
          <Form.Item name="key" rules={[{ required: true }]}>
            <Input placeholder="key" data-testid="group-key" />
          </Form.Item>
          <Form.Item name="name" rules={[{ required: true }]}>
            <Input placeholder={t("admin.user.name")} data-testid="group-name" />
          </Form.Item>
          <Form.Item name="parent_id">
            <Select allowClear style={{ minWidth: 180 }} placeholder={t("admin.group.parent")}
              options={rows.map((g) => ({ value: g.id, label: g.name }))} />
          </Form.Item>
          <Button htmlType="submit" data-testid="group-create">{t("records.new")}</Button>
        </Form>
      </Card>
      <Card size="small" style={{ flex: "1 1 320px" }} loading={groups.isLoading}>
        <Tree
          defaultExpandAll
          treeData={build(null) as never}
          onSelect={(keys) => setSelected(rows.find((g) => g.id === keys[0]) ?? null)}
        />
      </Card>
      {selected && (
        <Card size="small" title={selected.name} style={{ flex: "2 1 420px" }}>
          <Descriptions size="small" column={1}>
            <Descriptions.Item label={t("admin.group.manager")}>
              <Select
                allowClear
                showSearch={{ optionFilterProp: "label" }}
                style={{ minWidth: 240 }}
                value={selected.manager_id ?? undefined}
                options={userOptions}
                onChange={async (value) => {
                  try {
                    const saved = await api<GroupRow>(`/groups/${selected.id}`, {
                      method: "PATCH",
                      body: { manager_id: value ?? null, lock_version: selected.lock_version },
                    });
                    setSelected(saved);
                    await groups.refetch();
                  } catch (error) {
                    message.error(problem(error));
                  }
                }}
              />
            </Descriptions.Item>
            <Descriptions.Item label={t("admin.group.members")}>
              <Space direction="vertical" style={{ width: "100%" }}>
                <Select
                  showSearch={{ optionFilterProp: "label" }}
                  style={{ minWidth: 240 }}
                  placeholder={t("admin.group.add")}
                  options={userOptions}
                  value={null}
                  onChange={async (value) => {
                    if (!value) return;
                    try {
                      await api(`/groups/${selected.id}/members/${value}`, { method: "PUT" });
                      await members.refetch();
                    } catch (error) {
                      message.error(problem(error));
                    }
                  }}
                />
                <List
                  size="small"
                  dataSource={members.data ?? []}
                  renderItem={(u) => (
                    <List.Item
                      actions={[
                        <Button key="remove" size="small" type="link" onClick={async () => {
                          await api(`/groups/${selected.id}/members/${u.id}`, { method: "DELETE" });
                          await members.refetch();
                        }}>
                          {t("admin.remove")}
                        </Button>,
                      ]}
                    >
                      {u.display_name} ({u.username})
                    </List.Item>
                  )}
                />
              </Space>
            </Descriptions.Item>
          </Descriptions>
        </Card>
      )}
    </div>
  );
}

function Roles() {
  const { t } = useLang();
  const { message } = App.useApp();
  const roles = useQuery({ queryKey: ["admin-roles"], queryFn: () => api<RoleRow[]>("/roles") });
  const [selected, setSelected] = useState<RoleRow | null>(null);
  const grants = useQuery({
    queryKey: ["admin-grants", selected?.id],
    enabled: selected !== null,
    queryFn: () => api<GrantRow[]>(`/roles/${selected!.id}/grants`),
  });
  const [creating] = Form.useForm();
  const [granting] = Form.useForm();
  return (
    <div style={{ display: "flex", gap: 16, flexWrap: "wrap" }}>
      <Card size="small" style={{ flex: "1 1 100%" }} title={t("admin.role.new")}>
        <Form
          form={creating}
          layout="inline"
          onFinish={async (values: { key: string; name: string }) => {
            try {
              const made = await api<RoleRow>("/roles", { body: values });
              creating.resetFields();
              await roles.refetch();
              setSelected(made);
            } catch (error) {
              message.error(problem(error));
            }
          }}
        >
          <Form.Item name="key" rules={[{ required: true }]}>
            <Input placeholder="key" data-testid="role-key" />
          </Form.Item>
          <Form.Item name="name" rules={[{ required: true }]}>
            <Input placeholder={t("admin.user.name")} data-testid="role-name" />
          </Form.Item>
          <Button htmlType="submit" data-testid="role-create">{t("records.new")}</Button>
        </Form>
      </Card>
      <Card size="small" style={{ flex: "1 1 280px" }}>
        <List
          loading={roles.isLoading}
          dataSource={roles.data ?? []}
          renderItem={(r) => (
            <List.Item onClick={() => setSelected(r)} style={{ cursor: "pointer" }}>
              {r.name} <Typography.Text type="secondary">{r.key}</Typography.Text> {r.is_system && <Tag>system</Tag>}
            </List.Item>
          )}
        />
      </Card>
      {selected && (
        <Card size="small" title={selected.name} style={{ flex: "2 1 420px" }}>
          {!selected.is_system && (
            <Form
              form={granting}
              layout="inline"
              style={{ marginBottom: 12, rowGap: 8 }}
              initialValues={{ app_key: "*", form_key: "*", scope: "all", actions: ["read"] }}
              onFinish={async (values: Record<string, unknown>) => {
                try {
                  await api(`/roles/${selected.id}/grants`, { body: values });
                  await grants.refetch();
                } catch (error) {
                  message.error(problem(error));
                }
              }}
            >
              <Form.Item name="app_key"><Input style={{ width: 120 }} placeholder="app" data-testid="grant-app" /></Form.Item>
              <Form.Item name="form_key"><Input style={{ width: 120 }} placeholder="form" data-testid="grant-form" /></Form.Item>
              <Form.Item name="actions">
                <Select mode="multiple" style={{ minWidth: 200 }}
                  options={["create", "read", "update", "delete", "design"].map((a) => ({ value: a, label: a }))} />
              </Form.Item>
              <Form.Item name="scope">
                <Select style={{ width: 100 }} options={["own", "group", "all"].map((a) => ({ value: a, label: a }))} />
              </Form.Item>
              <Button htmlType="submit" data-testid="grant-add">{t("admin.grant.add")}</Button>
            </Form>
          )}
          <Table<GrantRow>
            rowKey="id"
            size="small"
            pagination={false}
            loading={grants.isLoading}
            dataSource={grants.data ?? []}
            columns={[
              { key: "app", title: "app", dataIndex: "app_key" },
              { key: "form", title: "form", dataIndex: "form_key" },
              { key: "actions", title: t("admin.actions"), render: (_: unknown, g) => g.actions.map((a) => <Tag key={a}>{a}</Tag>) },
              { key: "scope", title: t("admin.scope"), dataIndex: "scope" },
              {
                key: "remove",
                title: "",
                render: (_: unknown, g) =>
                  selected.is_system ? null : (
                    <Button size="small" type="link" onClick={async () => {
                      await api(`/roles/${selected.id}/grants/${g.id}`, { method: "DELETE" });
                      await grants.refetch();
                    }}>
                      {t("admin.remove")}
                    </Button>
                  ),
              },
            ]}
          />
        </Card>
      )}
    </div>
  );
}

function Packages() {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const queries = useQueryClient();
  const apps = useQuery({ queryKey: ["apps"], queryFn: () => api<AppInfo[]>("/apps") });
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<PackageReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const send = async (dryRun: boolean, force = false) => {
    if (!file) return;
    const body = new FormData();
    body.append("file", file);
    setError(null);
    try {
      const answer = await api<PackageReport>("/apps/import", { form: body, query: { dry_run: dryRun, force } });
      setReport(answer);
      if (!dryRun) {
        message.success(t("admin.package.installed"));
        setFile(null);
        await queries.invalidateQueries({ queryKey: ["apps"] });
      }
    } catch (exc) {
      setReport(null);
      setError(problem(exc));
    }
  };
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Card size="small" title={t("admin.package.import")}>
        <Space wrap>
          <Upload
            accept=".zip"
            maxCount={1}
            beforeUpload={(chosen) => {
              setFile(chosen);
              setReport(null);
              setError(null);
              return false;
            }}
            onRemove={() => setFile(null)}
          >
            <Button icon={<UploadOutlined />}>{t("admin.package.choose")}</Button>
          </Upload>
          <Button disabled={!file} onClick={() => send(true)} data-testid="package-check">
            {t("admin.package.check")}
          </Button>
          <Button type="primary" disabled={!report || !report.dry_run} onClick={() => send(false, report?.action === "downgrade")} data-testid="package-confirm">
            {t("admin.package.confirm")}
          </Button>
        </Space>
        {error && <Alert type="error" style={{ marginTop: 12, whiteSpace: "pre-wrap" }} title={error} />}
        {report && (
          <div style={{ marginTop: 12 }} data-testid="package-report">
            <Typography.Paragraph>
              <b>{report.app}</b> {report.previous_version ?? "—"} → {report.version} · {report.action}
              {report.dry_run ? ` (${t("admin.package.dry")})` : ""} ·{" "}
              {Object.entries(report.counts).map(([k, n]) => `${n} ${k}`).join(", ")}
            </Typography.Paragraph>
            <List
              size="small"
              dataSource={report.changes.filter((c) => c.action !== "unchanged")}
              renderItem={(c) => (
                <List.Item>
                  <Tag>{c.action}</Tag> {c.kind} {c.key} <Typography.Text type="secondary">{c.details.join("; ")}</Typography.Text>
                </List.Item>
              )}
            />
            {report.data.map((line) => (
              <Alert key={line} type="warning" title={line} style={{ marginTop: 8 }} />
            ))}
          </div>
        )}
      </Card>
      <Table<AppInfo>
        rowKey="key"
        size="small"
        pagination={false}
        loading={apps.isLoading}
        dataSource={apps.data ?? []}
        columns={[
          { key: "key", title: "app", dataIndex: "key" },
          { key: "name", title: t("admin.user.name"), render: (_: unknown, a) => a.name[lang] ?? a.name["zh-CN"] },
          { key: "version", title: "version", dataIndex: "version" },
          {
            key: "do",
            title: "",
            render: (_: unknown, a) => (
              <Space>
                <Button size="small" icon={<DownloadOutlined />} href={`/api/v1/apps/${a.key}/export`}>
                  {t("admin.package.export")}
                </Button>
                <Button
                  size="small"
                  onClick={async () => {
                    try {
                      const back = await api<PackageReport>(`/apps/${a.key}/rollback`, { method: "POST" });
                      message.success(`${back.app} → ${back.version}`);
                      await apps.refetch();
                    } catch (exc) {
                      message.error(problem(exc));
                    }
                  }}
                >
                  {t("admin.package.rollback")}
                </Button>
              </Space>
            ),
          },
        ]}
      />
    </Space>
  );
}

export function Admin() {
  const { t } = useLang();
  return (
    <Card>
      <Tabs
        items={[
          { key: "users", label: t("admin.users"), children: <Users /> },
          { key: "groups", label: t("admin.groups"), children: <Groups /> },
          { key: "roles", label: t("admin.roles"), children: <Roles /> },
          { key: "packages", label: t("admin.packages"), children: <Packages /> },
        ]}
      />
    </Card>
  );
}
