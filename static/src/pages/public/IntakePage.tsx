// A public intake link's page (/intake/:token): the fields the link exposes, drawn by the runtime's
// form renderer (file fields upload through the link, with their progress); the server's 422
// messages pinned on the fields, a 429 shown as the server's rate-limit sentence; after
// submitting, the record's number and the private status link to keep. While the visitor types,
// the help center's matching articles are offered (deflection, see ./Deflection).
import { CopyOutlined, SendOutlined } from "@ant-design/icons";
import { useMutation, useQuery } from "@tanstack/react-query";
import type { ErrorSchema } from "@rjsf/utils";
import { Alert, App, Button, Input, Result, Space, Spin, Typography } from "antd";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError, type FormSchema } from "../../api";
import { client, data, type Schemas } from "../../client";
import { localErrors, RecordForm } from "../../forms";
import { useLang } from "../../i18n";
import { usePageTitle } from "../../title";
import { Deflected, Deflection } from "./Deflection";
import { receiptNumber, statusLink, type Receipt } from "./model";
import { sendFailure } from "./sendFailure";
import { PublicFailure, PublicFrame } from "./PublicFrame";

type PublicForm = Schemas["IntakeForm"];

/** The link's form as the renderer takes a form: everything exposed may be written. */
function asSchema(found: PublicForm): FormSchema {
  const fields = found.fields as unknown as FormSchema["fields"];
  return {
    key: found.form,
    version: 0,
    label: found.title,
    json_schema: found.json_schema,
    ui_schema: found.ui_schema,
    conditions: found.conditions as FormSchema["conditions"],
    messages: found.messages as Record<string, string>,
    fields,
    title_field: null,
    can: { create: true, update: false, delete: false },
    create_fields: fields.map((f) => f.key),
  };
}

function Done(props: { receipt: Receipt; onAgain: () => void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const link = statusLink(window.location.origin, props.receipt);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      message.success(t("intake.done.copied"));
    } catch {
      message.info(link);
    }
  };
  return (
    <Result
      status="success"
      title={<h1 style={{ fontSize: 22, margin: 0 }}>{t("intake.done")}</h1>}
      subTitle={
        <Typography.Text strong style={{ fontSize: 16 }} data-testid="intake-number">
          {t("intake.done.number", { number: receiptNumber(props.receipt) })}
        </Typography.Text>
      }
      extra={
        <div style={{ textAlign: "start" }}>
          <Typography.Paragraph>{t("intake.done.keep")}</Typography.Paragraph>
          <Space.Compact style={{ width: "100%" }}>
            <Input readOnly value={link} aria-label={t("intake.done.open")} data-testid="intake-status-link" />
            <Button icon={<CopyOutlined />} onClick={() => void copy()} data-testid="intake-copy">
              {t("intake.done.copy")}
            </Button>
          </Space.Compact>
          <Alert type="warning" showIcon style={{ marginTop: 12 }} title={t("intake.done.private")} />
          <Space style={{ marginTop: 16 }} wrap>
            <Link to={props.receipt.status_path} data-testid="intake-open-status">
              <Button type="primary">{t("intake.done.open")}</Button>
            </Link>
            <Button onClick={props.onAgain}>{t("intake.done.again")}</Button>
          </Space>
        </div>
      }
      data-testid="intake-done"
    />
  );
}

export function IntakePage() {
  const { token = "" } = useParams();
  const { t, lang } = useLang();
  const found = useQuery({
    queryKey: ["public-intake", token, lang],
    queryFn: async () => data(await client.GET("/api/v1/intake/{token}", { params: { path: { token }, query: { lang } } })),
    retry: false,
  });
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<ErrorSchema | undefined>();
  const [problem, setProblem] = useState<{ title: string; detail: string } | null>(null);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [deflected, setDeflected] = useState(false);
  usePageTitle(found.data?.title);
  const schema = found.data ? asSchema(found.data) : null;
  const send = useMutation({
    mutationFn: async () =>
      data(
        await client.POST("/api/v1/intake/{token}", {
          params: { path: { token }, query: { lang } },
          body: { data: values },
        }),
      ),
    onSuccess: (answer) => {
      setReceipt(answer as Receipt);
      setErrors(undefined);
      setProblem(null);
      window.scrollTo(0, 0);
    },
    onError: (error) => {
      const failed = sendFailure(error, schema?.fields.map((f) => f.key) ?? [], { fix: t("intake.fix"), limited: t("intake.limited"), failed: t("public.failed") });
      if (failed.errors) setErrors(failed.errors);
      setProblem(failed.problem);
    },
  });
  const submit = () => {
    if (!schema) return;
    const local = localErrors(schema, values);
    setErrors(local);
    if (local) {
      setProblem({ title: t("intake.fix"), detail: "" });
      return;
    }
    setProblem(null);
    send.mutate();
  };
  if (found.isError)
    return (
      <PublicFrame testId="intake-page">
        <PublicFailure error={found.error} />
      </PublicFrame>
    );
  if (!found.data || !schema)
    return (
      <PublicFrame testId="intake-page">
        <Spin />
      </PublicFrame>
    );
  if (receipt)
    return (
      <PublicFrame testId="intake-page">
        <Done
          receipt={receipt}
          onAgain={() => {
            setReceipt(null);
            setValues({});
          }}
        />
      </PublicFrame>
    );
  if (deflected)
    return (
      <PublicFrame testId="intake-page">
        <Deflected onAgain={() => setDeflected(false)} />
      </PublicFrame>
    );
  return (
    <PublicFrame testId="intake-page">
      <h1 style={{ fontSize: 22, marginTop: 0 }} data-testid="intake-title">
        {found.data.title}
      </h1>
      <RecordForm app="" schema={schema} data={values} onChange={setValues} errors={errors} uploadPath={`/intake/${token}/attachments`} lookupPath={`/intake/${token}/choices`} />
      {found.data.suggest && (
        <Deflection
          target={found.data.suggest}
          values={values}
          onSolved={() => {
            setDeflected(true);
            window.scrollTo(0, 0);
          }}
        />
      )}
      {problem && (
        <Alert
          type={send.error instanceof ApiError && send.error.status === 429 ? "warning" : "error"}
          showIcon
          title={problem.title}
          description={problem.detail || undefined}
          style={{ marginBottom: 12 }}
          data-testid="intake-problem"
          role="alert"
        />
      )}
      <Button type="primary" block size="large" icon={<SendOutlined />} loading={send.isPending} onClick={submit} data-testid="intake-submit">
        {t("intake.submit")}
      </Button>
    </PublicFrame>
  );
}
