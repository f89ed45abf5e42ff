// Records from a spreadsheet, as Jiandaoyun imports them: upload an Excel workbook or a CSV file
// (a template names the columns a new record takes), map each column to a field (suggested from
// the headers, shown with the column's first values), check every row — each problem by row,
// column and field — and import all of it or nothing. Loaded only when the dialog opens.
import { CheckCircleOutlined, DownloadOutlined, InboxOutlined } from "@ant-design/icons";
import { Alert, Button, Modal, Progress, Result, Select, Space, Steps, Table, Typography, Upload } from "antd";
import { useState } from "react";
import { ApiError, problemText, uploadFollowed, withQuery, type FormSchema } from "../api";
import { useLang } from "../i18n";

export interface ImportReport {
  columns: string[];
  mapping: Record<string, string | null>;
  rows: number;
  valid: number;
  problems: { row: number; column: string | null; field: string | null; message: string }[];
  created: number[];
  samples: Record<string, string[]>;
}

/** Field types a column cannot fill (tables, files, what the server computes). */
const NOT_IMPORTED = new Set(["sub_table", "attachment", "attachments", "signature", "formula", "serial"]);

type Stage = "upload" | "map" | "check" | "done";

/** How far the server has come: rows checked, then rows written. */
interface Step {
  stage: "check" | "write";
  done: number;
  total: number;
}

export default function ImportRecords(props: { app: string; schema: FormSchema; open: boolean; onClose: (imported: boolean) => void }) {
  const { app, schema, open, onClose } = props;
  const { t, lang } = useLang();
  const [stage, setStage] = useState<Stage>("upload");
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [mapping, setMapping] = useState<Record<string, string | null>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [step, setStep] = useState<Step | null>(null);
  const [error, setError] = useState<string | null>(null);
  const base = `/apps/${app}/records/${schema.key}/import`;
  const fields = schema.fields.filter((f) => !NOT_IMPORTED.has(f.type));

  const send = async (chosen: File, dryRun: boolean, withMapping?: Record<string, string | null>): Promise<ImportReport | null> => {
    const body = new FormData();
    body.append("file", chosen);
    body.append("dry_run", dryRun ? "true" : "false");
    body.append("progress", "true");
    if (withMapping) body.append("mapping", JSON.stringify(withMapping));
    setError(null);
    setStep(null);
    setBusy(dryRun ? "check" : "import");
    try {
      return await uploadFollowed<ImportReport, Step>(withQuery(base, { lang }), body, setStep);
    } catch (e) {
      const rows = e instanceof ApiError && e.code === "import.invalid";
      // no answer, or one cut short: the server's own words never came
      const cut = dryRun ? "import.check_interrupted" : "import.interrupted";
      setError(rows ? t("import.refused") : e instanceof ApiError ? problemText(e) : t(cut));
      return null;
    } finally {
      setBusy(null);
      setStep(null);
    }
  };

  const reset = () => {
    setStage("upload");
    setFile(null);
    setReport(null);
    setMapping({});
    setError(null);
  };

  const close = (imported: boolean) => {
    reset();
    onClose(imported);
  };

  const chosenTwice = Object.values(mapping).filter((v, i, all) => v && all.indexOf(v) !== i);
  const current = { upload: 0, map: 1, check: 2, done: 3 }[stage];
  // the server's own count of the rows it has checked, then written
  const progress = busy && (
    <div role="status" data-testid="import-progress">
      <Typography.Text type="secondary">
        {step ? t(step.stage === "write" ? "import.writing" : "import.checking", { done: step.done, total: step.total }) : t("import.reading")}
      </Typography.Text>
      <Progress percent={step && step.total ? Math.floor((step.done / step.total) * 100) : 0} status="active" aria-label={t("import.progress")} />
    </div>
  );
  return (
    <Modal
      open={open}
      title={t("import.title", { form: schema.label })}
      width={900}
      onCancel={() => close(stage === "done")}
      footer={null}
      destroyOnHidden
      maskClosable={busy === null}
      closable={busy === null}
    >
      <Steps
        size="small"
        current={current}
        style={{ marginBottom: 24 }}
        items={[{ title: t("import.step.upload") }, { title: t("import.step.map") }, { title: t("import.step.check") }, { title: t("import.step.done") }]}
      />
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="import-error" />}
      {stage === "upload" && (
        <Space direction="vertical" style={{ width: "100%" }}>
          <Upload.Dragger
            accept=".xlsx,.csv"
            multiple={false}
            showUploadList={false}
            disabled={busy !== null}
            beforeUpload={(chosen) => {
              setFile(chosen);
              void send(chosen, true).then((found) => {
                if (!found) return;
                setReport(found);
                setMapping(found.mapping);
                setStage("map");
              });
              return false;
            }}
            data-testid="import-file"
          >
            {busy ? (
              <div style={{ padding: "8px 24px" }}>{progress}</div>
            ) : (
              <>
                <p className="ant-upload-drag-icon">
                  <InboxOutlined />
                </p>
                <p className="ant-upload-text">{t("import.drop")}</p>
                <p className="ant-upload-hint" style={{ color: "#595959" }}>
                  {t("import.limits")}
                </p>
              </>
            )}
          </Upload.Dragger>
          <Button type="link" icon={<DownloadOutlined />} href={`/api/v1${withQuery(`${base}/template`, { lang })}`} data-testid="import-template">
            {t("import.template")}
          </Button>
        </Space>
      )}
      {stage === "map" && report && (
        <Space direction="vertical" style={{ width: "100%" }}>
          <Typography.Text>{t("import.map_help", { rows: report.rows })}</Typography.Text>
          <Table
            size="small"
            pagination={false}
            rowKey={(column) => column}
            dataSource={report.columns}
            scroll={{ y: 360 }}
            data-testid="import-mapping"
            columns={[
              { title: t("import.column"), key: "column", render: (_: unknown, column: string) => <Typography.Text strong>{column || "—"}</Typography.Text> },
              {
                title: t("import.sample"),
                key: "sample",
                render: (_: unknown, column: string) => <Typography.Text type="secondary">{(report.samples[column] ?? []).join("、") || "—"}</Typography.Text>,
              },
              {
                title: t("import.field"),
                key: "field",
                width: 260,
                render: (_: unknown, column: string) => (
                  <Select
                    style={{ width: "100%" }}
                    value={mapping[column] ?? ""}
                    onChange={(value: string) => setMapping({ ...mapping, [column]: value || null })}
                    status={mapping[column] && chosenTwice.includes(mapping[column]) ? "error" : undefined}
                    aria-label={`${column} ${t("import.field")}`}
                    showSearch
                    optionFilterProp="label"
                    options={[{ value: "", label: t("import.skip") }, ...fields.map((f) => ({ value: f.key, label: f.label }))]}
                    data-testid={`import-map-${column}`}
                  />
                ),
              },
            ]}
          />
          {chosenTwice.length > 0 && <Alert type="warning" showIcon message={t("import.twice")} />}
          {progress}
          <Space>
            <Button onClick={reset}>{t("import.again")}</Button>
            <Button
              type="primary"
              loading={busy === "check"}
              disabled={chosenTwice.length > 0 || !Object.values(mapping).some(Boolean)}
              onClick={() =>
                void send(file!, true, mapping).then((found) => {
                  if (!found) return;
                  setReport(found);
                  setStage("check");
                })
              }
              data-testid="import-check"
            >
              {t("import.check")}
            </Button>
          </Space>
        </Space>
      )}
      {stage === "check" && report && (
        <Space direction="vertical" style={{ width: "100%" }}>
          <Alert
            type={report.problems.length ? "warning" : "success"}
            showIcon
            message={t("import.summary", { rows: report.rows, valid: report.valid, wrong: report.rows - report.valid })}
            description={report.problems.length ? t("import.fix") : undefined}
            data-testid="import-summary"
          />
          {report.problems.length > 0 && (
            <Table
              size="small"
              rowKey={(p) => `${p.row}-${p.column}-${p.message}`}
              dataSource={report.problems}
              pagination={{ pageSize: 8, hideOnSinglePage: true }}
              data-testid="import-problems"
              columns={[
                { title: t("import.row"), dataIndex: "row", width: 80 },
                { title: t("import.column"), dataIndex: "column", width: 160, render: (c: string | null) => c ?? "—" },
                { title: t("import.problem"), dataIndex: "message" },
              ]}
            />
          )}
          <Space>
            <Button onClick={() => setStage("map")} disabled={busy !== null}>
              {t("import.back_to_map")}
            </Button>
            <Button onClick={reset} disabled={busy !== null}>
              {t("import.again")}
            </Button>
            {report.problems.length === 0 && (
              <Button
                type="primary"
                loading={busy === "import"}
                onClick={() =>
                  void send(file!, false, report.mapping).then((found) => {
                    if (!found) return;
                    setReport(found);
                    setStage("done");
                  })
                }
                data-testid="import-run"
              >
                {t("import.run", { n: report.rows })}
              </Button>
            )}
          </Space>
          {busy === "import" && (
            <>
              {progress}
              <Typography.Text type="secondary">{t("import.running", { n: report.rows })}</Typography.Text>
            </>
          )}
        </Space>
      )}
      {stage === "done" && report && (
        <Result
          icon={<CheckCircleOutlined style={{ color: "#389e0d" }} />}
          title={t("import.done", { n: report.created.length })}
          extra={
            <Button type="primary" onClick={() => close(true)} data-testid="import-close">
              {t("common.close")}
            </Button>
          }
          data-testid="import-done"
        />
      )}
    </Modal>
  );
}
