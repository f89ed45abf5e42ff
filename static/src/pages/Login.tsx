import { Alert, Button, Card, Form, Input } from "antd";
import { useState } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import { ApiError } from "../api";
import { useLang } from "../i18n";
import { usePageTitle } from "../title";
import { useSession } from "../session";

export function Login() {
  const { t, lang, setLang } = useLang();
  usePageTitle(t("login.title"));
  const { login, expired } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const from = (location.state as { from?: string } | null)?.from ?? "/";
  return (
    <div style={{ minHeight: "100vh", display: "grid", placeItems: "center", padding: 16 }}>
      <Card title={`${t("app.title")} · ${t("login.title")}`} style={{ width: "100%", maxWidth: 380 }}
        extra={<Button type="link" onClick={() => setLang(lang === "en" ? "zh-CN" : "en")}>{t("nav.language")}</Button>}>
        {expired && !error && <Alert type="warning" showIcon title={t("session.expired")} style={{ marginBottom: 16 }} data-testid="login-expired" />}
        {error && <Alert type="error" title={error} style={{ marginBottom: 16 }} data-testid="login-error" />}
        <Form
          layout="vertical"
          onFinish={async (values: { username: string; password: string }) => {
            setBusy(true);
            setError(null);
            try {
              await login(values.username, values.password);
              navigate(from, { replace: true });
            } catch (exc) {
              if (exc instanceof ApiError && exc.status === 429) setError(t("login.limited"));
              else if (exc instanceof ApiError && exc.status === 401) setError(t("login.failed"));
              else setError(exc instanceof Error ? exc.message : t("common.error"));
            } finally {
              setBusy(false);
            }
          }}
        >
          <Form.Item name="username" label={t("login.username")} rules={[{ required: true }]}>
            <Input autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item name="password" label={t("login.password")} rules={[{ required: true }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            {t("login.submit")}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
