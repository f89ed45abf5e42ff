// What a page shows when it cannot show what was asked: result pages in the user's language with
// a way back (not found, not allowed, something failed), and a boundary around each route that
// catches what a page throws — a chunk of an older build that is gone (an open tab after a
// redeploy, or offline) asks to reload; anything else offers to try again.
import { Button, Result, Space, Typography } from "antd";
import { Component, type ErrorInfo, type ReactNode } from "react";
import { useNavigate } from "react-router-dom";
import { ApiError } from "./api";
import { useLang } from "./i18n";

/** The way back from a result page: where the user came from, or the start page. */
function Back() {
  const { t } = useLang();
  const navigate = useNavigate();
  return (
    <Space>
      <Button type="primary" onClick={() => (window.history.length > 1 ? navigate(-1) : navigate("/"))} data-testid="failure-back">
        {t("failure.back")}
      </Button>
      <Button onClick={() => navigate("/")}>{t("failure.home")}</Button>
    </Space>
  );
}

/** A result page for a failed request: 404 and 403 said in the user's language, anything else
 * with what the server said. */
export function Failure({ error, what }: { error: unknown; what?: string }) {
  const { t } = useLang();
  const status = error instanceof ApiError ? error.status : 0;
  if (status === 404)
    return <Result status="404" title={t("failure.not_found")} subTitle={t("failure.not_found.detail", { what: what ?? t("failure.page") })} extra={<Back />} data-testid="failure-404" />;
  if (status === 403)
    return <Result status="403" title={t("failure.forbidden")} subTitle={t("failure.forbidden.detail", { what: what ?? t("failure.page") })} extra={<Back />} data-testid="failure-403" />;
  return (
    <Result
      status="error"
      title={t("common.error")}
      subTitle={error instanceof Error ? error.message : String(error)}
      extra={
        <Space>
          <Button type="primary" onClick={() => window.location.reload()}>
            {t("failure.retry")}
          </Button>
          <Back />
        </Space>
      }
      data-testid="failure-error"
    />
  );
}

/** A page no route answers, or one the user may not open (with why). */
export function NotFoundPage() {
  const { t } = useLang();
  return <Result status="404" title={t("failure.not_found")} subTitle={t("failure.no_page")} extra={<Back />} data-testid="failure-404" />;
}

export function ForbiddenPage({ why }: { why: string }) {
  const { t } = useLang();
  return <Result status="403" title={t("failure.forbidden")} subTitle={why} extra={<Back />} data-testid="failure-403" />;
}

/** Whether an error is a script of the build that is no longer there (or cannot be fetched). */
export function isStaleChunk(error: unknown): boolean {
  const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return /dynamically imported module|Importing a module script failed|module script|ChunkLoadError|Loading chunk/i.test(text);
}

function Caught({ error, retry }: { error: unknown; retry: () => void }) {
  const { t } = useLang();
  if (isStaleChunk(error))
    return (
      <Result
        status="warning"
        title={t("failure.stale")}
        subTitle={t("failure.stale.detail")}
        extra={
          <Button type="primary" onClick={() => window.location.reload()} data-testid="failure-reload">
            {t("failure.reload")}
          </Button>
        }
        data-testid="failure-stale"
      />
    );
  return (
    <Result
      status="error"
      title={t("common.error")}
      subTitle={<Typography.Text type="secondary">{error instanceof Error ? error.message : String(error)}</Typography.Text>}
      extra={
        <Button type="primary" onClick={retry} data-testid="failure-retry">
          {t("failure.retry")}
        </Button>
      }
      data-testid="failure-caught"
    />
  );
}

/** Catches what a route's page throws while loading or drawing, so one page's failure is not a
 * blank screen; keyed by the route, a new page starts afresh. */
export class RouteBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  componentDidCatch(error: unknown, info: ErrorInfo) {
    console.warn("page failed", error, info.componentStack);
  }

  render() {
    if (this.state.error !== null) return <Caught error={this.state.error} retry={() => this.setState({ error: null })} />;
    return this.props.children;
  }
}
