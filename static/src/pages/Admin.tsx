// Administration: users, groups (tree, managers, members), roles and grants, app packages,
// inbound e-mail.
import { DownloadOutlined, UploadOutlined } from "@ant-design/icons";
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Drawer,
  Form,
  Input,
  List,
  Popconfirm,
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
import { usePageTitle } from "../title";
import { changes, grantText } from "./admin-model";
import { InboundMail } from "./InboundMail";

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  email: string | null;
  locale: string;
  skills: string[];
  is_active: boolean;
  lock_version: number;
  last_login_at: string | null;
}

const ACTIONS = ["create", "read", "update", "delete", "design"] as const;
const SCOPES = ["own", "group", "all"] as const;

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

function useUsers(q = "") {
  return useQuery({
    queryKey: ["admin-users", q],
    queryFn: () => api<{ items: UserRow[] }>("/users", { query: { limit: 500, ...(q ? { q } : {}) } }),
  });
}

/** One account in a drawer: its name, e-mail, language, skills, whether it is active, its roles
 * and groups, and a new password. Saving changes the account, then its roles and groups. */
function UserEditor({ user, onClose }: { user: UserRow; onClose: (changed: boolean) => void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const roles = useQuery({ queryKey: ["admin-roles"], queryFn: () => api<RoleRow[]>("/roles") });
  const groups = useQuery({ queryKey: ["admin-groups"], queryFn: () => api<GroupRow[]>("/groups") });
  const held = useQuery({
    queryKey: ["admin-memberships", user.id],
    queryFn: () => api<{ roles: number[]; groups: number[] }>(`/users/${user.id}/memberships`),
  });
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [password, setPassword] = useState("");
  const save = async (values: { display_name: string; email: string; locale: string; skills: string[]; is_active: boolean; roles: number[]; groups: number[] }) => {
    if (!held.data) return;
    setBusy(true);
    try {
      const changed: Record<string, unknown> = {};
      for (const key of ["display_name", "email", "locale", "is_active"] as const) {
        const now = key === "email" ? values.email || null : values[key];
        if (now !== user[key]) changed[key] = now;
      }
      if (JSON.stringify(values.skills ?? []) !== JSON.stringify(user.skills ?? [])) changed.skills = values.skills ?? [];
      if (Object.keys(changed).length) await api(`/users/${user.id}`, { method: "PATCH", body: { ...changed, lock_version: user.lock_version } });
      const r = changes(held.data.roles, values.roles ?? []);
      for (const id of r.added) await api(`/roles/${id}/members/${user.id}`, { method: "PUT" });
      for (const id of r.removed) await api(`/roles/${id}/members/${user.id}`, { method: "DELETE" });
      const g = changes(held.data.groups, values.groups ?? []);
      for (const id of g.added) await api(`/groups/${id}/members/${user.id}`, { method: "PUT" });
      for (const id of g.removed) await api(`/groups/${id}/members/${user.id}`, { method: "DELETE" });
      message.success(t("record.saved"));
      onClose(true);
    } catch (error) {
      message.error(problem(error));
    } finally {
      setBusy(false);
    }
  };
  const reset = async () => {
    setBusy(true);
    try {
      await api(`/users/${user.id}`, { method: "PATCH", body: { password, lock_version: user.lock_version } });
      setPassword("");
      message.success(t("admin.user.password_reset"));
      onClose(true);
    } catch (error) {
      message.error(problem(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Drawer
      open
      width="min(520px, 100vw)"
      title={t("admin.user.editing", { name: user.display_name || user.username })}
      onClose={() => onClose(false)}
      destroyOnHidden
      data-testid="user-editor"
      extra={
        <Button type="primary" loading={busy} disabled={!held.data} onClick={() => form.submit()} data-testid="user-save">
          {t("record.save")}
        </Button>
      }
    >
      {held.data ? (
        <Form
          form={form}
          layout="vertical"
          onFinish={save}
          initialValues={{ display_name: user.display_name, email: user.email ?? "", locale: user.locale, skills: user.skills ?? [], is_active: user.is_active, roles: held.data.roles, groups: held.data.groups }}
        >
          <Form.Item label={t("login.username")}>
            <Typography.Text strong>{user.username}</Typography.Text>
          </Form.Item>
          <Form.Item name="display_name" label={t("admin.user.name")} rules={[{ required: true }]}>
            <Input data-testid="user-display-name" />
          </Form.Item>
          <Form.Item name="email" label={t("admin.user.email")} rules={[{ type: "email" }]}>
            <Input />
          </Form.Item>
          <Form.Item name="locale" label={t("admin.user.locale")}>
            <Select options={[{ value: "zh-CN", label: "中文" }, { value: "en", label: "English" }]} />
          </Form.Item>
          <Form.Item name="is_active" label={t("admin.user.active")} valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item name="roles" label={t("admin.roles")}>
            <Select mode="multiple" optionFilterProp="label" options={(roles.data ?? []).map((r) => ({ value: r.id, label: r.name }))} data-testid="user-roles" />
          </Form.Item>
          <Form.Item name="groups" label={t("admin.groups")}>
            <Select mode="multiple" optionFilterProp="label" options={(groups.data ?? []).map((g) => ({ value: g.id, label: g.name }))} data-testid="user-groups" />
          </Form.Item>
          <Form.Item name="skills" label={t("admin.user.skills")}>
            <Select mode="tags" tokenSeparators={[",", " "]} />
          </Form.Item>
          <Form.Item label={t("admin.user.new_password")}>
            <Space.Compact style={{ width: "100%" }}>
              <Input.Password value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" aria-label={t("admin.user.new_password")} data-testid="user-new-password" />
              <Button disabled={!password} loading={busy} onClick={() => void reset()} data-testid="user-reset-password">
                {t("admin.user.reset_password")}
              </Button>
            </Space.Compact>
          </Form.Item>
        </Form>
      ) : (
        <Typography.Text type="secondary">{t("common.loading")}</Typography.Text>
      )}
    </Drawer>
  );
}

function Users() {
  const { t } = useLang();
  const { message } = App.useApp();
  const [q, setQ] = useState("");
  const users = useUsers(q);
  const roles = useQuery({ queryKey: ["admin-roles"], queryFn: () => api<RoleRow[]>("/roles") });
  const [editing, setEditing] = useState<UserRow | null>(null);
  const [form] = Form.useForm();
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Card size="small" title={t("admin.user.new")}>
        <Form
          form={form}
          layout="inline"
          style={{ rowGap: 8 }}
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
            <Input placeholder={t("login.username")} aria-label={t("login.username")} />
          </Form.Item>
          <Form.Item name="display_name">
            <Input placeholder={t("admin.user.name")} aria-label={t("admin.user.name")} />
          </Form.Item>
          <Form.Item name="password" rules={[{ required: true }]}>
            <Input.Password placeholder={t("login.password")} aria-label={t("login.password")} autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="roles">
            <Select mode="multiple" style={{ minWidth: 200 }} placeholder={t("admin.roles")} aria-label={t("admin.roles")}
              options={(roles.data ?? []).map((r) => ({ value: r.key, label: r.name }))} />
          </Form.Item>
          <Button type="primary" htmlType="submit">{t("records.new")}</Button>
        </Form>
      </Card>
      <Input.Search
        allowClear
        placeholder={t("admin.user.search")}
        aria-label={t("admin.user.search")}
        onSearch={(value) => setQ(value.trim())}
        style={{ maxWidth: 320 }}
        data-testid="user-search"
      />
      <Table<UserRow>
        rowKey="id"
        size="small"
        loading={users.isLoading}
        dataSource={users.data?.items ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: true }}
        data-testid="user-table"
        columns={[
          { key: "username", title: t("login.username"), dataIndex: "username" },
          { key: "display_name", title: t("admin.user.name"), dataIndex: "display_name" },
          { key: "email", title: t("admin.user.email"), dataIndex: "email" },
          {
            key: "last_login",
            title: t("admin.user.last_login"),
            render: (_: unknown, row) => (row.last_login_at ? new Date(row.last_login_at).toLocaleString() : "—"),
          },
          {
            key: "active",
            title: t("admin.user.active"),
            render: (_: unknown, row) => (
              <Switch
                size="small"
                checked={row.is_active}
                aria-label={`${row.username} ${t("admin.user.active")}`}
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
          {
            key: "edit",
            title: "",
            render: (_: unknown, row) => (
              <Button size="small" type="link" onClick={() => setEditing(row)} data-testid={`user-edit-${row.username}`}>
                {t("admin.user.edit")}
              </Button>
            ),
          },
        ]}
      />
      {editing && (
        <UserEditor
          user={editing}
          onClose={(changed) => {
            setEditing(null);
            if (changed) void users.refetch();
          }}
        />
      )}
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

/** The users holding a role, with a picker to add one and a button to take it away. */
function RoleMembers({ role }: { role: RoleRow }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const members = useQuery({ queryKey: ["admin-role-members", role.id], queryFn: () => api<UserRow[]>(`/roles/${role.id}/members`) });
  const [q, setQ] = useState("");
  const found = useUsers(q);
  const change = async (method: "PUT" | "DELETE", userId: number) => {
    try {
      await api(`/roles/${role.id}/members/${userId}`, { method });
      await members.refetch();
    } catch (error) {
      message.error(problem(error));
    }
  };
  return (
    <div data-testid="role-members">
      <Typography.Title level={5}>{t("admin.role.members")}</Typography.Title>
      <Select
        showSearch={{ filterOption: false, onSearch: setQ }}
        value={null}
        placeholder={t("admin.role.add_member")}
        aria-label={t("admin.role.add_member")}
        style={{ width: 260, marginBottom: 8 }}
        options={(found.data?.items ?? [])
          .filter((u) => !(members.data ?? []).some((m) => m.id === u.id))
          .map((u) => ({ value: u.id, label: `${u.display_name} (${u.username})` }))}
        onChange={(id: number) => void change("PUT", id)}
        data-testid="role-add-member"
      />
      <List
        size="small"
        loading={members.isLoading}
        locale={{ emptyText: t("admin.role.no_members") }}
        dataSource={members.data ?? []}
        renderItem={(u) => (
          <List.Item
            actions={[
              <Button key="remove" size="small" type="link" onClick={() => void change("DELETE", u.id)} aria-label={`${t("admin.remove")} ${u.username}`}>
                {t("admin.remove")}
              </Button>,
            ]}
          >
            {u.display_name} <Typography.Text type="secondary">{u.username}</Typography.Text>
          </List.Item>
        )}
      />
    </div>
  );
}

function Roles() {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const roles = useQuery({ queryKey: ["admin-roles"], queryFn: () => api<RoleRow[]>("/roles") });
  const apps = useQuery({ queryKey: ["apps"], queryFn: () => api<AppInfo[]>("/apps") });
  const [selected, setSelected] = useState<RoleRow | null>(null);
  const grants = useQuery({
    queryKey: ["admin-grants", selected?.id],
    enabled: selected !== null,
    queryFn: () => api<GrantRow[]>(`/roles/${selected!.id}/grants`),
  });
  const [creating] = Form.useForm();
  const [granting] = Form.useForm();
  const chosenApp = Form.useWatch("app_key", granting) as string | undefined;
  const appKeys = (apps.data ?? []).map((a) => a.key);
  // every app's forms by label: the grant picker's and the grants' names
  const allForms = useQueries({
    queries: appKeys.map((key) => ({
      queryKey: ["admin-forms", key],
      queryFn: () => api<{ forms: { key: string; label: string }[] }>(`/apps/${key}/navigation`),
    })),
  });
  const formsOf = (app: string | undefined) => allForms[appKeys.indexOf(app ?? "")]?.data?.forms ?? [];
  const names = (app: string) => ({
    app: (key: string) => (key === "*" ? t("admin.grant.any_app") : (apps.data?.find((a) => a.key === key)?.name[lang] ?? key)),
    form: (key: string) => (key === "*" ? t("admin.grant.any_form") : (formsOf(app).find((f) => f.key === key)?.label ?? key)),
    action: (a: string) => t(`admin.action.${a}`, {}, a),
    scope: (s: string) => t(`admin.scope.${s}`, {}, s),
  });
  const picking = names(chosenApp ?? "*");
  return (
    <div style={{ display: "flex", gap: 16, flexWrap: "wrap" }}>
      <Card size="small" style={{ flex: "1 1 100%" }} title={t("admin.role.new")}>
        <Form
          form={creating}
          layout="inline"
          style={{ rowGap: 8 }}
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
            <Input placeholder="key" aria-label="key" data-testid="role-key" />
          </Form.Item>
          <Form.Item name="name" rules={[{ required: true }]}>
            <Input placeholder={t("admin.user.name")} aria-label={t("admin.user.name")} data-testid="role-name" />
          </Form.Item>
          <Button htmlType="submit" data-testid="role-create">{t("records.new")}</Button>
        </Form>
      </Card>
      <Card size="small" style={{ flex: "1 1 240px", minWidth: 0 }}>
        <List
          loading={roles.isLoading}
          dataSource={roles.data ?? []}
          renderItem={(r) => (
            <List.Item style={{ padding: 0 }}>
              <Button
                type="text"
                block
                style={{ textAlign: "start", height: "auto", padding: "8px 4px", whiteSpace: "normal", fontWeight: selected?.id === r.id ? 600 : undefined }}
                onClick={() => setSelected(r)}
                aria-pressed={selected?.id === r.id}
                data-testid={`role-${r.key}`}
              >
                {r.name} <Typography.Text type="secondary">{r.key}</Typography.Text> {r.is_system && <Tag>system</Tag>}
              </Button>
            </List.Item>
          )}
        />
      </Card>
      {selected && (
        <Card size="small" title={selected.name} style={{ flex: "2 1 320px", minWidth: 0 }}>
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
              <Form.Item name="app_key" label={t("admin.grant.app")}>
                <Select
                  style={{ width: 150 }}
                  showSearch
                  optionFilterProp="label"
                  onChange={() => granting.setFieldValue("form_key", "*")}
                  options={[{ value: "*", label: t("admin.grant.any_app") }, ...(apps.data ?? []).map((a) => ({ value: a.key, label: a.name[lang] ?? a.name["zh-CN"] ?? a.key }))]}
                  data-testid="grant-app"
                />
              </Form.Item>
              <Form.Item name="form_key" label={t("admin.grant.form")}>
                <Select
                  style={{ width: 150 }}
                  showSearch
                  optionFilterProp="label"
                  disabled={!chosenApp || chosenApp === "*"}
                  options={[{ value: "*", label: t("admin.grant.any_form") }, ...formsOf(chosenApp).map((f) => ({ value: f.key, label: f.label }))]}
                  data-testid="grant-form"
                />
              </Form.Item>
              <Form.Item name="actions" label={t("admin.actions")} rules={[{ required: true }]}>
                <Select mode="multiple" style={{ minWidth: 180 }} options={ACTIONS.map((a) => ({ value: a, label: picking.action(a) }))} data-testid="grant-actions" />
              </Form.Item>
              <Form.Item name="scope" label={t("admin.scope")}>
                <Select style={{ width: 110 }} options={SCOPES.map((a) => ({ value: a, label: picking.scope(a) }))} data-testid="grant-scope" />
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
            scroll={{ x: true }}
            data-testid="grant-table"
            columns={[
              { key: "grant", title: t("admin.grant.title"), render: (_: unknown, g) => grantText(g, names(g.app_key)) },
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
          <RoleMembers key={selected.id} role={selected} />
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
              <b>{report.app}</b> {report.previous_version ?? "—"} → {report.version} · {t(`admin.package.action.${report.action}`, {}, report.action)}
              {report.dry_run ? ` (${t("admin.package.dry")})` : ""} ·{" "}
              {Object.entries(report.counts)
                .map(([k, n]) => t("admin.package.count", { n, what: t(`admin.package.change.${k}`, {}, k) }))
                .join("，")}
            </Typography.Paragraph>
            <List
              size="small"
              dataSource={report.changes.filter((c) => c.action !== "unchanged")}
              renderItem={(c) => (
                <List.Item>
                  <Tag>{t(`admin.package.change.${c.action}`, {}, c.action)}</Tag> {t(`admin.package.kind.${c.kind}`, {}, c.kind)} {c.key}{" "}
                  <Typography.Text type="secondary">{c.details.join("; ")}</Typography.Text>
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
                <Popconfirm
                  title={t("admin.package.rollback")}
                  description={<div style={{ maxWidth: 320 }}>{t("admin.package.rollback_confirm")}</div>}
                  okText={t("common.ok")}
                  cancelText={t("common.cancel")}
                  onConfirm={async () => {
                    try {
                      const back = await api<PackageReport>(`/apps/${a.key}/rollback`, { method: "POST" });
                      message.success(`${back.app} → ${back.version}`);
                      await apps.refetch();
                    } catch (exc) {
                      message.error(problem(exc));
                    }
                  }}
                >
                  <Button size="small" data-testid={`rollback-${a.key}`}>
                    {t("admin.package.rollback")}
                  </Button>
                </Popconfirm>
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
  usePageTitle(t("nav.admin"));
  return (
    <Card>
      <Tabs
        items={[
          { key: "users", label: t("admin.users"), children: <Users /> },
          { key: "groups", label: t("admin.groups"), children: <Groups /> },
          { key: "roles", label: t("admin.roles"), children: <Roles /> },
          { key: "packages", label: t("admin.packages"), children: <Packages /> },
          { key: "mail", label: t("admin.mail"), children: <InboundMail /> },
        ]}
      />
    </Card>
  );
}
