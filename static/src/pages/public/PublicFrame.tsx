// The frame of a public page (no sign-in, no app shell), in the manner of Jiandaoyun's and Feishu's
// public forms: a light page, one centred card at most 640 px wide that fills a phone's width, the
// page's title and a 中文 / English switch above it.
import { Result, Segmented, Typography } from "antd";
import type { CSSProperties, ReactNode } from "react";
import { ApiError } from "../../api";
import { useLang, type Lang } from "../../i18n";
import "./strings";

const PAGE: CSSProperties = { minHeight: "100vh", background: "#f0f2f5", padding: "16px 12px 32px", boxSizing: "border-box" };
const COLUMN: CSSProperties = { maxWidth: 640, margin: "0 auto", width: "100%" };
const WIDE: CSSProperties = { ...COLUMN, maxWidth: 880 };
const CARD: CSSProperties = { background: "#fff", borderRadius: 8, padding: "20px 16px", boxShadow: "0 1px 2px rgba(0,0,0,0.06)", overflowWrap: "anywhere" };
const TOP: CSSProperties = { display: "flex", justifyContent: "flex-end", marginBottom: 12 };

/** The language switch: the page's words and the server's answers follow it. */
export function LanguageSwitch() {
  const { lang, setLang, t } = useLang();
  return (
    <Segmented<Lang>
      size="small"
      aria-label={t("public.language")}
      value={lang}
      onChange={(next) => setLang(next)}
      options={[
        { value: "zh-CN", label: "中文" },
        { value: "en", label: "English" },
      ]}
      data-testid="public-language"
    />
  );
}

/** A public page: the switch, then the card holding ``children`` (``wide``: a help center's
 * reading width instead of a form's). */
export function PublicFrame(props: { children: ReactNode; testId: string; wide?: boolean }) {
  const { t } = useLang();
  return (
    <div style={PAGE}>
      <div style={props.wide ? WIDE : COLUMN}>
        <header style={TOP}>
          <LanguageSwitch />
        </header>
        <main style={CARD} data-testid={props.testId}>
          {props.children}
        </main>
        <footer style={{ textAlign: "center", marginTop: 16 }}>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t("public.powered")}
          </Typography.Text>
        </footer>
      </div>
    </div>
  );
}

/** What a public page shows when its link opens nothing (404), or the page failed. */
export function PublicFailure(props: { error: unknown; onRetry?: () => void }) {
  const { t } = useLang();
  if (props.error instanceof ApiError && props.error.status === 404)
    return (
      <Result
        status="404"
        title={<h1 style={{ fontSize: 20, margin: 0 }}>{t("public.not_found")}</h1>}
        subTitle={t("public.not_found.detail")}
        data-testid="public-not-found"
      />
    );
  return (
    <Result
      status="error"
      title={<h1 style={{ fontSize: 20, margin: 0 }}>{t("public.failed")}</h1>}
      subTitle={props.error instanceof Error ? props.error.message : String(props.error)}
      data-testid="public-failed"
    />
  );
}
