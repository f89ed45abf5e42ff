// The form's public intake links (外部填报链接), as Jiandaoyun's 公开链接 and Feishu's 分享表单: a
// link asks visitors without an account for some of the form's fields. Each link is listed with
// its fields and can be turned off, given other fields or a new address; an address is shown (with
// a QR code for phones) only when it is made, since the server keeps only its hash.
import { CopyOutlined, LinkOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Checkbox, Empty, Input, Modal, Popconfirm, QRCode, Select, Space, Switch, Table, Tag, Tooltip, Typography } from "antd";
import { useMemo, useState } from "react";
import { problemText } from "../../api";
import { client, data } from "../../client";
import type { components } from "../../client/schema";
import { useLang } from "../../i18n";
import { label } from "../data";
import { useDirectory, useFormBody } from "../flows/data";
import { exposureGaps, firstExposed, inFormOrder, intakeChoices, linkAddress, type FormDefinition, type IntakeChoice } from "./model";

type Link = components["schemas"]["Link"];
type NewLink = components["schemas"]["NewLink"];

/** A link being made or changed. */
interface Draft {
  link: Link | null;
  fields: string[];
  title: string;
  /** Who the records it brings in belong to (made links only: the server keeps it). */
  owner: number | null;
}

/** The fields a link asks for: checkboxes in the form's order, what cannot be offered disabled
 * with the reason, what must be asked for marked. */
function FieldChoice({ app, choices, value, onChange }: { app: string; choices: IntakeChoice[]; value: string[]; onChange: (keys: string[]) => void }) {
  const { t, lang } = useLang();
  return (
    <Checkbox.Group value={value} onChange={(keys) => onChange(inFormOrder(choices, keys as string[]))} style={{ display: "flex", flexDirection: "column", gap: 6 }} data-testid="intake-fields">
      {choices.map((c) => {
        const name = label(c.label, lang, c.key);
        const box = (
          <Checkbox key={c.key} value={c.key} disabled={c.not_offered !== undefined} aria-label={name}>
            {name} {c.needed && <Tag color="red">{t("design.intake.needed")}</Tag>}
            {c.shows && value.includes(c.key) && <ShowsNote app={app} shows={c.shows} />}
          </Checkbox>
        );
        return c.not_offered ? (
          <Tooltip key={c.key} title={t(`design.intake.not_offered.${c.not_offered}`)}>
            <span>{box}</span>
          </Tooltip>
        ) : (
          box
        );
      })}
    </Checkbox.Group>
  );
}

/** What exposing a reference shows anyone with the link, by the referenced form's names. */
function ShowsNote({ app, shows }: { app: string; shows: { form: string; field: string } }) {
  const { t, lang } = useLang();
  const target = useFormBody(app, shows.form).data;
  const field = target?.fields?.find((f) => f.key === shows.field);
  return (
    <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="intake-shows">
      {t("design.intake.shows", { form: label(target?.label, lang, shows.form), field: label(field?.label, lang, shows.field) })}
    </Typography.Text>
  );
}

/** A link's address, the one time it is shown: to copy, open, or scan on a phone. */
function Shown({ link, onClose }: { link: NewLink | null; onClose: () => void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const address = link ? linkAddress(window.location.origin, link.path) : "";
  return (
    <Modal open={link !== null} title={t("design.intake.shown.title")} onCancel={onClose} footer={<Button type="primary" onClick={onClose}>{t("design.intake.shown.done")}</Button>} destroyOnHidden>
      <Space direction="vertical" size="middle" style={{ width: "100%" }} data-testid="intake-shown">
        <Alert type="warning" showIcon message={t("design.intake.shown.once")} />
        <Space.Compact style={{ width: "100%" }}>
          <Input readOnly value={address} aria-label={t("design.intake.shown.address")} data-testid="intake-address" />
          <Tooltip title={t("design.intake.shown.copy")}>
            <Button
              icon={<CopyOutlined />}
              aria-label={t("design.intake.shown.copy")}
              onClick={() =>
                void navigator.clipboard?.writeText(address).then(
                  () => message.success(t("design.intake.shown.copied")),
                  () => message.warning(t("design.intake.shown.copy_failed")),
                )
              }
            />
          </Tooltip>
          <Button icon={<LinkOutlined />} href={address} target="_blank" rel="noopener noreferrer">
            {t("design.intake.shown.open")}
          </Button>
        </Space.Compact>
        <Space align="start">
          <QRCode value={address || "-"} size={144} bordered aria-label={t("design.intake.shown.qr")} />
          <Typography.Text type="secondary">{t("design.intake.shown.qr_help")}</Typography.Text>
        </Space>
      </Space>
    </Modal>
  );
}

export function IntakeLinks({ app, definition, published }: { app: string; definition: FormDefinition; published: boolean }) {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const queries = useQueryClient();
  const formKey = String(definition.key ?? "");
  const choices = useMemo(() => intakeChoices(definition), [definition]);
  const key = ["design", "intake", app];
  const links = useQuery({
    queryKey: key,
    queryFn: async () => data(await client.GET("/api/v1/apps/{app}/intake", { params: { path: { app } } })),
    enabled: Boolean(app) && published,
    retry: false,
  });
  const mine = (links.data ?? []).filter((l) => l.form === formKey);
  const [editing, setEditing] = useState<Draft | null>(null);
  const people = useDirectory().users.data ?? [];
  const [shown, setShown] = useState<NewLink | null>(null);
  const refresh = () => void queries.invalidateQueries({ queryKey: key });
  const failed = (error: unknown) => void message.error(problemText(error));

  const save = useMutation({
    mutationFn: async (draft: Draft) => {
      const title = { ...(draft.link?.title ?? {}), [lang]: draft.title };
      if (draft.link === null) {
        const body = { form: formKey, fields: draft.fields, title, owner_id: draft.owner };
        return { made: data(await client.POST("/api/v1/apps/{app}/intake", { params: { path: { app } }, body })) };
      }
      const body = { lock_version: draft.link.lock_version, fields: draft.fields, title };
      return { changed: data(await client.PATCH("/api/v1/apps/{app}/intake/{link_id}", { params: { path: { app, link_id: draft.link.id } }, body })) };
    },
    onSuccess: (done) => {
      setEditing(null);
      refresh();
      if ("made" in done) setShown(done.made ?? null);
      else void message.success(t("design.intake.saved"));
    },
    onError: failed,
  });
  const toggle = useMutation({
    mutationFn: async (link: Link) => data(await client.PATCH("/api/v1/apps/{app}/intake/{link_id}", { params: { path: { app, link_id: link.id } }, body: { lock_version: link.lock_version, enabled: !link.enabled } })),
    onSuccess: refresh,
    onError: failed,
  });
  const renew = useMutation({
    mutationFn: async (link: Link) => data(await client.POST("/api/v1/apps/{app}/intake/{link_id}/token", { params: { path: { app, link_id: link.id } }, body: { lock_version: link.lock_version } })),
    onSuccess: (made) => {
      refresh();
      setShown(made);
    },
    onError: failed,
  });

  if (!published) return <Alert type="info" showIcon message={t("design.intake.unpublished")} data-testid="intake-unpublished" />;
  if (links.isError) return <Alert type="error" showIcon message={problemText(links.error)} />;
  const fieldName = (k: string) => label(choices.find((c) => c.key === k)?.label, lang, k);
  const gaps = editing ? exposureGaps(choices, editing.fields) : null;
  const formTitle = label(definition.label, lang, formKey);

  return (
    <div style={{ maxWidth: 960 }} data-testid="intake-links">
      <Space style={{ width: "100%", justifyContent: "space-between", marginBottom: 12 }} wrap>
        <Typography.Text type="secondary">{t("design.intake.intro")}</Typography.Text>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing({ link: null, fields: firstExposed(choices), title: formTitle, owner: null })} data-testid="intake-new">
          {t("design.intake.new")}
        </Button>
      </Space>
      <Table<Link>
        rowKey="id"
        size="middle"
        loading={links.isLoading}
        dataSource={mine}
        pagination={false}
        locale={{ emptyText: <Empty description={t("design.intake.none")} /> }}
        scroll={{ x: "max-content" }}
        columns={[
          { title: t("design.intake.col.title"), render: (_, l) => label(l.title as never, lang, formTitle) },
          {
            title: t("design.intake.col.fields"),
            render: (_, l) => (
              <Space size={[4, 4]} wrap>
                {l.fields.map((k) => (
                  <Tag key={k}>{fieldName(k)}</Tag>
                ))}
              </Space>
            ),
          },
          {
            title: t("design.intake.col.enabled"),
            render: (_, l) => <Switch checked={l.enabled} loading={toggle.isPending && toggle.variables?.id === l.id} onChange={() => toggle.mutate(l)} aria-label={t("design.intake.col.enabled")} data-testid={`intake-enabled-${l.id}`} />,
          },
          { title: t("design.intake.col.created"), render: (_, l) => new Date(l.created_at).toLocaleString(lang) },
          {
            title: t("design.intake.col.actions"),
            render: (_, l) => (
              <Space>
                <Button size="small" onClick={() => setEditing({ link: l, fields: l.fields, title: label(l.title as never, lang, formTitle), owner: l.owner_id ?? null })} data-testid={`intake-edit-${l.id}`}>
                  {t("design.intake.edit")}
                </Button>
                <Popconfirm title={t("design.intake.renew.confirm")} okText={t("design.intake.renew")} onConfirm={() => renew.mutate(l)}>
                  <Button size="small" icon={<ReloadOutlined />} data-testid={`intake-renew-${l.id}`}>
                    {t("design.intake.renew")}
                  </Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={editing !== null}
        title={t(editing?.link ? "design.intake.edit.title" : "design.intake.new.title")}
        okText={t(editing?.link ? "design.intake.save" : "design.intake.create")}
        onOk={() => editing && save.mutate(editing)}
        okButtonProps={{
          disabled: !editing || editing.fields.length === 0 || (gaps?.missing.length ?? 0) > 0 || (gaps?.unfillable.length ?? 0) > 0,
          loading: save.isPending,
          ...({ "data-testid": "intake-save" } as Record<string, string>),
        }}
        onCancel={() => setEditing(null)}
        destroyOnHidden
      >
        {editing && (
          <Space direction="vertical" size="middle" style={{ width: "100%" }}>
            <label>
              <Typography.Text strong>{t("design.intake.page_title")}</Typography.Text>
              <Input value={editing.title} maxLength={100} onChange={(e) => setEditing({ ...editing, title: e.target.value })} style={{ marginTop: 4 }} data-testid="intake-title-input" />
            </label>
            {editing.link === null && (
              <label>
                <Typography.Text strong>{t("design.intake.owner")}</Typography.Text>
                <Select
                  allowClear
                  showSearch
                  optionFilterProp="label"
                  value={editing.owner ?? undefined}
                  onChange={(owner?: number) => setEditing({ ...editing, owner: owner ?? null })}
                  options={people.map((p) => ({ value: p.id, label: `${p.display_name} (${p.username})` }))}
                  placeholder={t("design.intake.owner.none")}
                  style={{ width: "100%", marginTop: 4 }}
                  data-testid="intake-owner"
                />
              </label>
            )}
            <Typography.Text strong>{t("design.intake.fields")}</Typography.Text>
            <FieldChoice app={app} choices={choices} value={editing.fields} onChange={(fields) => setEditing({ ...editing, fields })} />
            {gaps && gaps.missing.length > 0 && (
              <Alert type="warning" showIcon message={t("design.intake.missing", { fields: gaps.missing.map(fieldName).join("、") })} data-testid="intake-missing" />
            )}
            {gaps && gaps.unfillable.length > 0 && <Alert type="error" showIcon message={t("design.intake.unfillable", { fields: gaps.unfillable.map(fieldName).join("、") })} />}
          </Space>
        )}
      </Modal>
      <Shown link={shown} onClose={() => setShown(null)} />
    </div>
  );
}
