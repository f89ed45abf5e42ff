// Create or edit a record: 422 errors land on their fields, a 409 offers to reload.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { ErrorSchema } from "@rjsf/utils";
import { Alert, App, Button, Card, Space, Spin } from "antd";
import { useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { api, ApiError, type RecordItem } from "../api";
import { defaults, localErrors, RecordForm, serverErrors, useFormSchema, writable, type Permissions } from "../forms";
import { Failure } from "../Failure";
import { useLang } from "../i18n";
import { usePageTitle } from "../title";

export function RecordEdit() {
  const { app = "", form = "", recordId } = useParams();
  const { t } = useLang();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const schema = useFormSchema(app, form);
  const existing = useQuery({
    queryKey: ["record", app, form, recordId],
    queryFn: () => api<RecordItem>(`/apps/${app}/records/${form}/${recordId}`),
    enabled: Boolean(recordId),
  });
  const [data, setData] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<ErrorSchema | undefined>();
  const [conflict, setConflict] = useState(false);
  const [busy, setBusy] = useState(false);
  // the form starts from what was loaded (the stored record, or a new record's defaults): state
  // adjusted while rendering when its source changes, as React advises instead of an effect
  const source = recordId ? existing.data : schema.data;
  const [seeded, setSeeded] = useState<unknown>(undefined);
  if (source && seeded !== source) {
    setSeeded(source);
    if (existing.data && recordId) setData(existing.data.data);
    else if (schema.data) setData((current) => ({ ...defaults(schema.data), ...current }));
  }
  usePageTitle(schema.data ? (recordId ? `${t("record.edit")} ${schema.data.label} #${recordId}` : `${t("records.new")} ${schema.data.label}`) : undefined);
  if (schema.isError) return <Failure error={schema.error} what={t("failure.form")} />;
  if (!schema.data || (recordId && !existing.data)) return <Spin />;
  // a new record shows what its author may write on creation (a flow's later steps fill the rest)
  const creating: Permissions | undefined = recordId
    ? undefined
    : { ...Object.fromEntries(schema.data.create_fields.map((k) => [k, "editable" as const])), others: "hidden" };
  const save = async () => {
    const local = localErrors(schema.data, data, creating);
    setErrors(local);
    if (local) {
      message.error(t("record.invalid"));
      return;
    }
    setBusy(true);
    try {
      const body = writable(schema.data, data, creating);
      const saved = recordId
        ? await api<RecordItem>(`/apps/${app}/records/${form}/${recordId}`, {
            method: "PATCH",
            body: { data: body, lock_version: existing.data!.lock_version },
          })
        : await api<RecordItem>(`/apps/${app}/records/${form}`, { body: { data: body } });
      message.success(t("record.saved"));
      await queries.invalidateQueries({ queryKey: ["records", app, form] });
      await queries.invalidateQueries({ queryKey: ["record", app, form, String(saved.id)] });
      navigate(`/apps/${app}/records/${form}/${saved.id}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) {
        setErrors(serverErrors(error.errors));
        message.error(t("record.invalid"));
      } else if (error instanceof ApiError && error.status === 409) setConflict(true);
      else message.error(error instanceof Error ? error.message : t("common.error"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={schema.data.label}>
      {conflict && (
        <Alert
          type="warning"
          showIcon
          title={t("record.conflict")}
          style={{ marginBottom: 16 }}
          action={
            <Button
              size="small"
              onClick={async () => {
                setConflict(false);
                await existing.refetch();
              }}
            >
              {t("record.reload")}
            </Button>
          }
        />
      )}
      <RecordForm app={app} schema={schema.data} data={data} onChange={setData} errors={errors} permissions={creating} />
      <Space style={{ marginTop: 16 }}>
        <Button type="primary" onClick={save} loading={busy} data-testid="save-record">
          {t("record.save")}
        </Button>
        <Button onClick={() => navigate(-1)}>{t("common.cancel")}</Button>
      </Space>
    </Card>
  );
}
