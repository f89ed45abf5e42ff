// The frame every signed-in page shares: apps, inbox with its count, the notification bell,
// language, sign out.
import {
  AppstoreOutlined,
  FormOutlined,
  InboxOutlined,
  LogoutOutlined,
  SettingOutlined,
  TranslationOutlined,
} from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Badge, Button, Grid, Layout, Menu, Space, Spin, Typography } from "antd";
import { Suspense, useEffect } from "react";
import { Link, Outlet, useLocation, useNavigate, useNavigationType } from "react-router-dom";
import { RouteBoundary } from "./Failure";
import { api } from "./api";
import { useLang } from "./i18n";
import { useSession } from "./session";
import { canDesign } from "./design/access";
import { ChangePassword } from "./ChangePassword";
import { Bell } from "./notifications/Bell";

export function Shell() {
  const { t, lang, setLang } = useLang();
  const { me, logout } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const screens = Grid.useBreakpoint();
  const navigation = useNavigationType();
  // a page reached by a link or after a save opens at its top; Back and Forward keep the
  // browser's own place
  useEffect(() => {
    if (navigation !== "POP") window.scrollTo(0, 0);
  }, [location.pathname, navigation]);
  const counts = useQuery({
    queryKey: ["inbox-counts"],
    queryFn: () => api<{ counts: Record<string, number> }>("/tasks", { query: { box: "todo", limit: 1 } }),
    refetchInterval: 30_000,
  });
  const todo = counts.data?.counts.todo ?? 0;
  const selected = location.pathname.startsWith("/inbox") || location.pathname.startsWith("/tasks")
    ? "inbox"
    : location.pathname.startsWith("/admin")
      ? "admin"
      : location.pathname.startsWith("/design")
        ? "design"
        : "apps";
  return (
    <Layout style={{ minHeight: "100vh" }}>
      <Layout.Header style={{ display: "flex", alignItems: "center", gap: 16, paddingInline: screens.md ? 24 : 8 }}>
        <Link to="/" style={{ color: "#fff", fontWeight: 600, whiteSpace: "nowrap" }}>
          {t("app.title")}
        </Link>
        {!screens.md ? (
          <Space size="large" style={{ flex: 1 }}>
            <Link to="/" aria-label={t("nav.apps")}>
              <AppstoreOutlined style={{ color: "#fff", fontSize: 18 }} />
            </Link>
            {/* the name holds the badge's number as shown, so that what is read matches what is seen */}
            <Link to="/inbox" data-testid="nav-inbox" aria-label={todo ? `${t("nav.inbox")} ${todo > 99 ? "99+" : todo}` : t("nav.inbox")}>
              <Badge count={todo} size="small">
                <InboxOutlined style={{ color: "#fff", fontSize: 18 }} />
              </Badge>
            </Link>
            {me?.is_admin && (
              <Link to="/admin" aria-label={t("nav.admin")} data-testid="nav-admin">
                <SettingOutlined style={{ color: "#fff", fontSize: 18 }} />
              </Link>
            )}
          </Space>
        ) : (
        <Menu
          theme="dark"
          mode="horizontal"
          selectedKeys={[selected]}
          style={{ flex: 1, minWidth: 0 }}
          items={[
            { key: "apps", icon: <AppstoreOutlined />, label: <Link to="/">{t("nav.apps")}</Link> },
            ...(canDesign(me)
              ? [{ key: "design", icon: <FormOutlined />, label: <Link to="/design" data-testid="nav-design">{t("nav.design")}</Link> }]
              : []),
            ...(me?.is_admin
              ? [{ key: "admin", icon: <SettingOutlined />, label: <Link to="/admin" data-testid="nav-admin">{t("nav.admin")}</Link> }]
              : []),
            {
              key: "inbox",
              icon: <InboxOutlined />,
              label: (
                <Link to="/inbox" data-testid="nav-inbox">
                  {t("nav.inbox")} <Badge count={todo} size="small" offset={[4, -2]} />
                </Link>
              ),
            },
          ]}
        />
        )}
        <Space>
          <Bell phone={!screens.md} />
          {screens.md && <Typography.Text style={{ color: "#fff" }}>{me?.display_name}</Typography.Text>}
          <Button
            size="small"
            icon={<TranslationOutlined />}
            onClick={() => setLang(lang === "en" ? "zh-CN" : "en")}
            aria-label={t("nav.language")}
            data-testid="switch-language"
          >
            {screens.md ? t("nav.language") : null}
          </Button>
          <ChangePassword compact={!screens.md} />
          <Button
            size="small"
            aria-label={t("nav.logout")}
            icon={<LogoutOutlined />}
            onClick={async () => {
              await logout();
              navigate("/login");
            }}
          >
            {screens.md ? t("nav.logout") : null}
          </Button>
        </Space>
      </Layout.Header>
      <Layout.Content style={{ padding: screens.md ? 24 : 8 }}>
        <RouteBoundary key={location.pathname}>
          <Suspense fallback={<Spin />}>
            <Outlet />
          </Suspense>
        </RouteBoundary>
      </Layout.Content>
    </Layout>
  );
}
