// A survey's page: /survey/:token (the link a rule mailed) or /status/:token/survey (the survey
// waiting on a status page). The record it is about, the survey form's fields drawn by the
// runtime's renderer (small integer ranges — a 1–5 rating, a 0–10 scale — as buttons to tap),
// the server's 422 messages on the fields, then a thank-you. A survey already answered says so
// (410); any link that opens nothing shows the one not-found page.
import { SendOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ErrorSchema } from "@rjsf/utils";
import { Alert, Button, Result, Spin, Typography } from "antd";
import { useState } from "react";
import { Link, useLocation, useParams } from "react-router-dom";
import { ApiError, type FormSchema } from "../../api";
import { client, data, type Schemas } from "../../client";
import { localErrors, RecordForm } from "../../forms";
import { useLang } from "../../i18n";
import { usePageTitle } from "../../title";
import { withScales } from "./model";
import { sendFailure } from "./sendFailure";
import { PublicFailure, PublicFrame } from "./PublicFrame";

type Survey = Schemas["Survey"];

/** The survey as the renderer takes a form: every field asked may be written. */
function asSchema(found: Survey): FormSchema {
  const fields = found.fields as unknown as FormSchema["fields"];
  return {
    key: found.form,
    version: 0,
    label: found.title,
    json_schema: found.json_schema,
    ui_schema: withScales(found.json_schema, found.ui_schema),
    conditions: found.conditions as FormSchema["conditions"],
    messages: found.messages as Record<string, string>,
    fields,
    title_field: null,
    can: { create: true, update: false, delete: false },
    create_fields: fields.map((f) => f.key),
  };
}

function Answered(props: { number?: string; back?: string; already?: boolean }) {
  const { t } = useLang();
  return (
    <Result
      status="success"
      title={<h1 style={{ fontSize: 22, margin: 0 }}>{props.already ? t("survey.answered") : t("survey.thanks")}</h1>}
      subTitle={props.number ? t("survey.thanks.detail", { number: props.number }) : undefined}
      extra={
        props.back ? (
          <Link to={props.back} data-testid="survey-back">
            <Button>{t("survey.back")}</Button>
          </Link>
        ) : undefined
      }
      data-testid="survey-thanks"
    />
  );
}

export function SurveyPage() {
  const { token = "" } = useParams();
  const location = useLocation();
  const viaStatus = location.pathname.startsWith("/status/");
  const { t, lang } = useLang();
  const queries = useQueryClient();
  const found = useQuery({
    queryKey: ["public-survey", viaStatus, token, lang],
    queryFn: async () =>
      viaStatus
        ? data(await client.GET("/api/v1/status/{token}/survey", { params: { path: { token }, query: { lang } } }))
        : data(await client.GET("/api/v1/surveys/{token}", { params: { path: { token }, query: { lang } } })),
    retry: false,
  });
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<ErrorSchema | undefined>();
  const [problem, setProblem] = useState<{ title: string; detail: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  usePageTitle(found.data?.title);
  const schema = found.data ? asSchema(found.data) : null;
  const back = viaStatus ? `/status/${token}` : undefined;
  const send = useMutation({
    mutationFn: async () => {
      const body = { data: values };
      const params = { path: { token }, query: { lang } };
      return viaStatus
        ? data(await client.POST("/api/v1/status/{token}/survey", { params, body }))
        : data(await client.POST("/api/v1/surveys/{token}", { params, body }));
    },
    onSuccess: (answer) => {
      // the status page no longer shows the survey
      void queries.invalidateQueries({ queryKey: ["public-status", token] });
      setDone(answer.number);
      setProblem(null);
      window.scrollTo(0, 0);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 410) {
        setDone("");
        return;
      }
      const failed = sendFailure(error, schema?.fields.map((f) => f.key) ?? [], { fix: t("survey.fix"), limited: t("survey.limited"), failed: t("public.failed") });
      if (failed.errors) setErrors(failed.errors);
      setProblem(failed.problem);
    },
  });
  const submit = () => {
    if (!schema) return;
    const local = localErrors(schema, values);
    setErrors(local);
    if (local) {
      setProblem({ title: t("survey.fix"), detail: "" });
      return;
    }
    setProblem(null);
    send.mutate();
  };
  if (done !== null)
    return (
      <PublicFrame testId="survey-page">
        <Answered number={done || undefined} already={!done} back={back} />
      </PublicFrame>
    );
  if (found.isError)
    return (
      <PublicFrame testId="survey-page">
        {found.error instanceof ApiError && found.error.status === 410 ? <Answered already back={back} /> : <PublicFailure error={found.error} />}
      </PublicFrame>
    );
  if (!found.data || !schema)
    return (
      <PublicFrame testId="survey-page">
        <Spin />
      </PublicFrame>
    );
  return (
    <PublicFrame testId="survey-page">
      <h1 style={{ fontSize: 22, marginTop: 0, marginBottom: 4 }} data-testid="survey-title">
        {found.data.title}
      </h1>
      <Typography.Paragraph type="secondary" data-testid="survey-subject">
        {t("survey.about", { number: found.data.number })}
        {found.data.subject_title ? ` · ${found.data.subject_title}` : ""}
      </Typography.Paragraph>
      <RecordForm app="" schema={schema} data={values} onChange={setValues} errors={errors} />
      {problem && (
        <Alert
          type={send.error instanceof ApiError && send.error.status === 429 ? "warning" : "error"}
          showIcon
          title={problem.title}
          description={problem.detail || undefined}
          style={{ marginBottom: 12 }}
          data-testid="survey-problem"
          role="alert"
        />
      )}
      <Button type="primary" block size="large" icon={<SendOutlined />} loading={send.isPending} onClick={submit} data-testid="survey-submit">
        {t("survey.submit")}
      </Button>
    </PublicFrame>
  );
}
