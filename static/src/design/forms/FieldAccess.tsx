// The form's field permissions by role: a matrix of fields × roles whose cells are 可编辑 / 只读 /
// 隐藏. It reads and writes the field rules of the roles' grants on the form (model/access.ts), which
// apply at once — they are not part of the form's definition and need no publication.
import { DownOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Dropdown, Empty, Select, Space, Table, Tag, Tooltip, Typography } from "antd";
import { useMemo, useState } from "react";
import { problemText } from "../../api";
import { client, data } from "../../client";
import { useLang } from "../../i18n";
import { label } from "../data";
import { changes, levelOf, levelsFor, matrixFields, warnings, withColumn, withLevel, type Level, type MatrixField, type RoleAccess } from "./model";
import type { FormDefinition } from "./model";

const ACTION_KEYS = ["create", "read", "update", "delete"] as const;

export function FieldAccess({ app, definition }: { app: string; definition: FormDefinition }) {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const queries = useQueryClient();
  const key = String(definition.key ?? "");
  const access = useQuery({
    queryKey: ["design", "access", app, key],
    queryFn: async () => data(await client.GET("/api/v1/apps/{app}/forms/{key}/access", { params: { path: { app, key } } })),
    enabled: Boolean(app && key),
    retry: false,
  });
  const [edited, setEdited] = useState<Record<number, Record<string, string>>>({});
  const roles = useMemo(() => (access.data?.roles ?? []) as RoleAccess[], [access.data]);
  const fields = useMemo(() => matrixFields(definition), [definition]);
  const editable = access.data?.editable === true;
  const rulesOf = (role: RoleAccess) => edited[role.grant_id] ?? role.field_rules;
  const body = changes(roles, edited);
  const problems = warnings(roles, edited, fields);

  const save = useMutation({
    mutationFn: async () => data(await client.PUT("/api/v1/apps/{app}/forms/{key}/access", { params: { path: { app, key } }, body })),
    onSuccess: (saved) => {
      queries.setQueryData(["design", "access", app, key], saved);
      setEdited({});
      void message.success(t("design.access.saved"));
    },
  });

  const set = (role: RoleAccess, field: string, level: Level) => setEdited((all) => ({ ...all, [role.grant_id]: withLevel(all[role.grant_id] ?? role.field_rules, field, level) }));
  const setAll = (role: RoleAccess, level: Level) =>
    setEdited((all) => ({
      ...all,
      [role.grant_id]: withColumn(
        all[role.grant_id] ?? role.field_rules,
        fields.map((f) => f.key),
        level,
      ),
    }));

  if (access.isLoading) return <Typography.Text type="secondary">{t("design.access.loading")}</Typography.Text>;
  if (access.isError) return <Alert type="error" showIcon message={problemText(access.error)} />;

  const levelText = (role: RoleAccess, level: Level) => t(level === "editable" && !levelsFor(role).includes("read_only") ? "design.access.level.visible" : `design.access.level.${level}`);
  const actionTags = (role: RoleAccess) => ACTION_KEYS.filter((a) => role.actions.includes(a)).map((a) => t(`design.access.action.${a}`)).join(" · ");

  const columns = [
    {
      key: "field",
      title: t("design.access.field"),
      width: 180,
      render: (_: unknown, f: MatrixField) => (
        <Space direction="vertical" size={0}>
          <Typography.Text>
            {label(f.label, lang, f.key)}
            {f.required && <Typography.Text type="danger"> *</Typography.Text>}
          </Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {f.key}
          </Typography.Text>
        </Space>
      ),
    },
    ...roles.map((role) => ({
      key: String(role.grant_id),
      width: 150,
      title: (
        <Space direction="vertical" size={2}>
          <Space size={4}>
            <Typography.Text strong>{role.name}</Typography.Text>
            {editable && role.settable && (
              <Dropdown
                trigger={["click"]}
                menu={{
                  items: levelsFor(role).map((level) => ({ key: level, label: `${t("design.access.all")}${levelText(role, level)}` })),
                  onClick: ({ key: level }) => setAll(role, level as Level),
                }}
              >
                <Button size="small" type="text" icon={<DownOutlined />} aria-label={`${role.name} ${t("design.access.all")}`} data-testid={`access-all-${role.key}`} />
              </Dropdown>
            )}
          </Space>
          <Typography.Text type="secondary" style={{ fontSize: 12, fontWeight: "normal" }}>
            {actionTags(role)}
          </Typography.Text>
          {!role.settable && (
            <Tooltip title={t("design.access.every_form.help")}>
              <Tag>{t("design.access.every_form")}</Tag>
            </Tooltip>
          )}
        </Space>
      ),
      render: (_: unknown, f: MatrixField) => {
        const level = levelOf(rulesOf(role), f.key, role);
        if (!role.settable) return <Typography.Text type="secondary">{levelText(role, "editable")}</Typography.Text>;
        return (
          <Select<Level>
            size="small"
            style={{ width: 110 }}
            value={level}
            disabled={!editable}
            aria-label={`${role.name} · ${label(f.label, lang, f.key)}`}
            data-testid={`access-${role.key}-${f.key}`}
            onChange={(next) => set(role, f.key, next)}
            options={levelsFor(role).map((l) => ({ value: l, label: levelText(role, l) }))}
          />
        );
      },
    })),
  ];

  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }} data-testid="field-access">
      <Alert type="info" showIcon message={t("design.access.intro")} description={t("design.access.levels")} />
      {!editable && <Alert type="warning" showIcon message={t("design.access.admins_only")} />}
      {problems.length > 0 && (
        <Alert
          type="warning"
          showIcon
          data-testid="access-warnings"
          message={t("design.access.warnings")}
          description={
            <ul style={{ margin: 0, paddingInlineStart: 18 }}>
              {problems.map((w) => {
                const role = roles.find((r) => r.grant_id === w.grant_id);
                const field = fields.find((f) => f.key === w.field);
                return <li key={`${w.grant_id}:${w.field}`}>{t(`design.access.warning.${w.kind}`, { role: role?.name ?? "", field: field ? label(field.label, lang, field.key) : w.field })}</li>;
              })}
            </ul>
          }
        />
      )}
      {save.isError && <Alert type="error" showIcon message={problemText(save.error)} />}
      {editable && (
        <Space>
          <Button type="primary" disabled={body.roles.length === 0} loading={save.isPending} onClick={() => save.mutate()} data-testid="access-save">
            {t("design.access.save")}
            {body.roles.length > 0 ? ` (${body.roles.length})` : ""}
          </Button>
          <Button disabled={Object.keys(edited).length === 0 || save.isPending} onClick={() => setEdited({})}>
            {t("design.access.discard")}
          </Button>
        </Space>
      )}
      {roles.length === 0 ? (
        <Empty description={t("design.access.no_roles")} />
      ) : (
        <div style={{ overflowX: "auto" }}>
          <Table<MatrixField> size="small" rowKey="key" pagination={false} columns={columns} dataSource={fields} />
        </div>
      )}
    </Space>
  );
}
