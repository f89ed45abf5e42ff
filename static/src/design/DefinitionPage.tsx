// /design/{app}/{kinds}/{key}: one definition — its designer (or outline), the autosave state, the
// engine's live verdict, versions and publishing.
import { CloudSyncOutlined, HistoryOutlined, SendOutlined, SwapOutlined } from "@ant-design/icons";
import { Alert, Breadcrumb, Button, Result, Space, Spin, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { lazy, Suspense, useCallback, useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { problemText } from "../api";
import { useLang } from "../i18n";
import { useSession } from "../session";
import { canDesign } from "./access";
import { isKinds, label, useApp, useDraft, useLiveCheck, type Body, type Kinds, type Problem, type SaveState } from "./data";
import { Outline } from "./Outline";
import { ProblemsButton } from "./Problems";
import { PublishDialog } from "./PublishDialog";
import { VersionsDrawer } from "./VersionsDrawer";
import { StatusTag } from "./Workbench";

const FormDesigner = lazy(() => import("./forms/FormDesigner").then((m) => ({ default: m.FormDesigner })));
const FlowDesigner = lazy(() => import("./flows/FlowDesigner").then((m) => ({ default: m.FlowDesigner })));
const CalendarEditor = lazy(() => import("./calendars/CalendarEditor").then((m) => ({ default: m.CalendarEditor })));
const DecisionTableEditor = lazy(() => import("./rules/DecisionTableEditor").then((m) => ({ default: m.DecisionTableEditor })));
const RuleDesigner = lazy(() => import("./rules/RuleDesigner").then((m) => ({ default: m.RuleDesigner })));
const SlaEditor = lazy(() => import("./sla/SlaEditor").then((m) => ({ default: m.SlaEditor })));
const KpiEditor = lazy(() => import("./reports/KpiEditor").then((m) => ({ default: m.KpiEditor })));
const ReportBuilder = lazy(() => import("./reports/ReportBuilder").then((m) => ({ default: m.ReportBuilder })));
const DashboardDesigner = lazy(() => import("./dashboards/DashboardDesigner").then((m) => ({ default: m.DashboardDesigner })));
const MigrationDialog = lazy(() => import("./flows/MigrationDialog").then((m) => ({ default: m.MigrationDialog })));

/** What a kind's designer gets: the body, its setter, the problems pinned on its elements. */
export interface DesignerProps {
  app: string;
  body: Body;
  setBody: (next: Body) => void;
  problems: Problem[];
  /** The keys published at least once (fixed from then on). */
  publishedKeys: Set<string>;
  /** The problem the user picked in the list: the designer selects its element. */
  focus: Problem | null;
  /** The engine's warnings on the body (valid, but likely to go wrong). */
  warnings?: (Problem & Record<string, unknown>)[];
}

export function SaveIndicator({ state }: { state: SaveState }) {
  const { t } = useLang();
  const map: Record<SaveState, [string, string]> = {
    saved: ["green", t("design.save.saved")],
    pending: ["default", t("design.save.pending")],
    saving: ["processing", t("design.save.saving")],
    failed: ["red", t("design.save.failed")],
    conflict: ["red", t("design.conflict.title")],
  };
  const [color, text] = map[state];
  // the preset colours' text is too light on their tints for WCAG AA: the darkest shade of each
  const ink: Record<string, string> = { green: "#135200", red: "#a8071a", processing: "#003eb3" };
  return (
    <Tag color={color} style={{ color: ink[color] }} icon={<CloudSyncOutlined />} data-testid="design-save-state" data-state={state}>
      {text}
    </Tag>
  );
}

export function DefinitionPage() {
  const { app = "", kinds: rawKinds, key = "" } = useParams();
  const { me } = useSession();
  const { t } = useLang();
  if (!isKinds(rawKinds)) return <Result status="404" />;
  if (!canDesign(me, app)) return <Result status="403" title={t("design.denied")} />;
  return <Definition app={app} kinds={rawKinds} key={`${app}/${rawKinds}/${key}`} definitionKey={key} />;
}

function Definition({ app, kinds, definitionKey: key }: { app: string; kinds: Kinds; definitionKey: string }) {
  const { t, lang } = useLang();
  const info = useApp(app);
  const draft = useDraft(app, kinds, key);
  const live = useLiveCheck(app, kinds, draft.body);
  const [versionsOpen, setVersionsOpen] = useState(false);
  const [publishing, setPublishing] = useState(false);
  const [migrating, setMigrating] = useState(false);
  /** Instances left on older versions by the publication just made (a flow's). */
  const [leftBehind, setLeftBehind] = useState(0);
  const [focus, setFocus] = useState<Problem | null>(null);
  const problems = live.verdict?.problems ?? draft.problems;
  const warnings = live.verdict?.warnings ?? [];
  const definition = draft.loaded.data;
  const publishedKeys = useMemo(
    () => new Set<string>(((definition as { published_field_keys?: string[] } | undefined)?.published_field_keys) ?? []),
    [definition],
  );
  const describe = useCallback((path: string) => describePath(draft.body, path, lang), [draft.body, lang]);
  if (draft.loaded.isError) return <Result status="error" title={t("common.error")} subTitle={problemText(draft.loaded.error)} />;
  if (!definition || !draft.body) return <Spin />;
  const name = label(draft.body.label, lang, key);
  return (
    <Space direction="vertical" size="small" style={{ width: "100%" }}>
      <Breadcrumb
        items={[
          { title: <Link to="/design">{t("design.title")}</Link> },
          { title: <Link to={`/design/${app}?kind=${kinds}`}>{label(info.data?.name, lang, app)}</Link> },
          { title: t(`design.kind.${kinds}`) },
          { title: name },
        ]}
      />
      <Space style={{ justifyContent: "space-between", width: "100%" }} wrap>
        <Space wrap>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="design-title">
            {name}
          </Typography.Title>
          <Typography.Text code>{key}</Typography.Text>
          <StatusTag
            item={{
              status: definition.published_version === null ? "draft" : definition.dirty ? "changed" : "published",
              published_version: definition.published_version,
              archived_at: definition.archived_at,
            }}
          />
          <SaveIndicator state={draft.state} />
        </Space>
        <Space wrap>
          <ProblemsButton problems={problems} warnings={warnings} checking={live.checking} describe={describe} onPick={setFocus} />
          <Button icon={<HistoryOutlined />} onClick={() => setVersionsOpen(true)} data-testid="design-versions">
            {t("design.versions")}
          </Button>
          {kinds === "flows" && definition.published_version !== null && (
            <Button icon={<SwapOutlined />} onClick={() => setMigrating(true)} data-testid="flow-open-migrate">
              {t("design.migrate")}
            </Button>
          )}
          <Button
            type="primary"
            icon={<SendOutlined />}
            data-testid="design-publish"
            onClick={async () => {
              await draft.flush().catch(() => undefined);
              setPublishing(true);
            }}
          >
            {t("design.publish")}
          </Button>
        </Space>
      </Space>
      {draft.state === "conflict" && (
        <Alert
          type="error"
          showIcon
          data-testid="design-conflict"
          message={t("design.conflict.title")}
          description={t("design.conflict.detail", {
            who: (draft.conflict?.current as { updated_by?: string } | null)?.updated_by ?? t("design.conflict.someone"),
            when: draft.conflict?.current ? dayjs(draft.conflict.current.updated_at).format("HH:mm:ss") : "",
            lock: draft.conflict?.current?.lock_version ?? "?",
          })}
          action={
            <Space direction="vertical">
              <Button size="small" onClick={() => void draft.reload()} data-testid="design-conflict-reload">
                {t("design.conflict.reload")}
              </Button>
              <Button size="small" danger onClick={() => void draft.overwrite()} data-testid="design-conflict-overwrite">
                {t("design.conflict.overwrite")}
              </Button>
            </Space>
          }
        />
      )}
      {kinds === "flows" && leftBehind > 0 && (
        <Alert
          type="info"
          showIcon
          closable
          onClose={() => setLeftBehind(0)}
          data-testid="design-offer-migrate"
          message={t("design.migrate.offer", { n: leftBehind })}
          action={
            <Button size="small" type="primary" onClick={() => setMigrating(true)}>
              {t("design.migrate")}
            </Button>
          }
        />
      )}
      <Suspense fallback={<Spin />}>
        {kinds === "forms" ? (
          <FormDesigner app={app} body={draft.body} setBody={draft.setBody} problems={problems} publishedKeys={publishedKeys} focus={focus} />
        ) : kinds === "flows" ? (
          <FlowDesigner app={app} body={draft.body} setBody={draft.setBody} problems={problems} publishedKeys={publishedKeys} focus={focus} />
        ) : kinds === "rules" && (draft.body.type ?? "rule") === "rule" ? (
          <RuleDesigner app={app} body={draft.body} setBody={draft.setBody} problems={problems} publishedKeys={publishedKeys} focus={focus} />
        ) : kinds === "calendars" ? (
          <CalendarEditor app={app} body={draft.body} setBody={draft.setBody} problems={problems} publishedKeys={publishedKeys} focus={focus} />
        ) : kinds === "rules" && draft.body.type === "decision_table" ? (
          <DecisionTableEditor app={app} body={draft.body} setBody={draft.setBody} problems={problems} warnings={warnings as (Problem & Record<string, unknown>)[]} publishedKeys={publishedKeys} focus={focus} />
        ) : kinds === "rules" && draft.body.type === "sla" ? (
          <SlaEditor app={app} body={draft.body} setBody={draft.setBody} problems={problems} publishedKeys={publishedKeys} focus={focus} />
        ) : kinds === "kpis" ? (
          <KpiEditor app={app} body={draft.body} setBody={draft.setBody} problems={problems} publishedKeys={publishedKeys} focus={focus} />
        ) : kinds === "reports" ? (
          <ReportBuilder app={app} body={draft.body} setBody={draft.setBody} problems={problems} publishedKeys={publishedKeys} focus={focus} />
        ) : kinds === "dashboards" ? (
          <DashboardDesigner app={app} body={draft.body} setBody={draft.setBody} problems={problems} publishedKeys={publishedKeys} focus={focus} />
        ) : (
          <Outline body={draft.body} />
        )}
      </Suspense>
      {versionsOpen && (
        <VersionsDrawer
          app={app}
          kinds={kinds}
          definitionKey={key}
          lockVersion={() => draft.lockVersion()}
          onRestored={() => void draft.reload()}
          onClose={() => setVersionsOpen(false)}
        />
      )}
      {publishing && (
        <PublishDialog
          app={app}
          kinds={kinds}
          definitionKey={key}
          name={name}
          problems={problems}
          lockVersion={draft.lockVersion()}
          onClose={() => setPublishing(false)}
          onPublished={(running) => {
            setLeftBehind(kinds === "flows" ? running : 0);
            void draft.reload();
          }}
        />
      )}
      {migrating && (
        <Suspense fallback={null}>
          <MigrationDialog
            app={app}
            flowKey={key}
            target={definition.published_version}
            onClose={() => {
              setMigrating(false);
              setLeftBehind(0);
            }}
          />
        </Suspense>
      )}
    </Space>
  );
}

/** A JSON pointer into a body, for people: the labels of the fields and parts it passes. */
export function describePath(body: Body | null, path: string, lang: string): string {
  if (!body || !path) return "";
  const parts = path.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  const names: string[] = [];
  let node: unknown = body;
  for (const part of parts) {
    if (node === null || typeof node !== "object") break;
    node = (node as Record<string, unknown>)[part];
    if (node && typeof node === "object" && !Array.isArray(node)) {
      const record = node as Record<string, unknown>;
      const named = record.label ?? record.name ?? record.title;
      if (named !== undefined && typeof named === "object" && named !== null && "zh-CN" in named) {
        names.push(label(named, lang));
        continue;
      }
      if (typeof record.key === "string" || typeof record.id === "string") {
        names.push(String(record.key ?? record.id));
        continue;
      }
    }
    if (!/^\d+$/.test(part) && !["fields", "nodes", "edges", "widgets", "sections"].includes(part)) names.push(part);
  }
  return names.join(" › ");
}
