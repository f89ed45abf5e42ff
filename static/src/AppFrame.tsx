// The frame of one app's pages (Ant Design Pro's layout): on wide screens a side menu of the app's
// dashboards and forms, and on every screen a breadcrumb that says where the page sits —
// 应用 / 售后服务 / 售后工单 / #12 / 编辑 — each step a way back.
import { BarChartOutlined, FormOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Breadcrumb, Grid, Layout, Menu, Spin } from "antd";
import { Suspense } from "react";
import { Link, Outlet, useLocation, useParams } from "react-router-dom";
import { api, type Navigation } from "./api";
import { placeOf } from "./frame";
import { useLang } from "./i18n";
import { HeaderSearch } from "./search/HeaderSearch";

export function AppFrame() {
  const { app = "" } = useParams();
  const { t, lang } = useLang();
  const { pathname } = useLocation();
  const screens = Grid.useBreakpoint();
  const nav = useQuery({
    queryKey: ["navigation", app, lang],
    queryFn: () => api<Navigation>(`/apps/${app}/navigation`, { query: { lang } }),
    retry: false,
  });
  const place = placeOf(app, pathname);
  const form = nav.data?.forms.find((f) => f.key === place.key);
  const board = nav.data?.dashboards.find((d) => d.key === place.key);
  const list = `/apps/${app}/records/${place.key}`;
  const crumbs = [
    { key: "apps", title: <Link to="/">{t("nav.apps")}</Link> },
    { key: "app", title: nav.data?.app.name ?? app },
    ...(place.kind === "records"
      ? [{ key: "form", title: place.record ? <Link to={list}>{form?.label ?? place.key}</Link> : (form?.label ?? place.key) }]
      : place.kind === "dashboards"
        ? [{ key: "board", title: board?.label ?? place.key }]
        : place.kind === "search"
          ? [{ key: "search", title: t("search.title") }]
          : []),
    ...(place.kind === "records" && place.record
      ? [
          {
            key: "record",
            title:
              place.record === "new" ? t("frame.new") : place.edit ? <Link to={`${list}/${place.record}`}>#{place.record}</Link> : `#${place.record}`,
          },
        ]
      : []),
    ...(place.edit ? [{ key: "edit", title: t("frame.edit") }] : []),
  ];
  const side = screens.lg && nav.data && (nav.data.forms.length > 0 || nav.data.dashboards.length > 0);
  return (
    <Layout style={{ background: "transparent" }} hasSider={Boolean(side)}>
      {side && (
        <Layout.Sider theme="light" width={200} style={{ background: "transparent", marginInlineEnd: 16 }} data-print="hide">
          <nav aria-label={t("frame.menu", { app: nav.data!.app.name })}>
            <Menu
              mode="inline"
              selectedKeys={[`${place.kind}:${place.key}`]}
              style={{ borderInlineEnd: "none", borderRadius: 8 }}
              items={[
                ...(nav.data!.dashboards.length
                  ? [
                      {
                        type: "group" as const,
                        key: "dashboards",
                        label: t("apps.dashboards"),
                        children: nav.data!.dashboards.map((d) => ({
                          key: `dashboards:${d.key}`,
                          icon: <BarChartOutlined />,
                          label: <Link to={`/apps/${app}/dashboards/${d.key}`}>{d.label}</Link>,
                        })),
                      },
                    ]
                  : []),
                {
                  type: "group" as const,
                  key: "forms",
                  label: t("apps.forms"),
                  children: nav.data!.forms.map((f) => ({
                    key: `records:${f.key}`,
                    icon: <FormOutlined />,
                    label: <Link to={`/apps/${app}/records/${f.key}`}>{f.label}</Link>,
                  })),
                },
              ]}
            />
          </nav>
        </Layout.Sider>
      )}
      {/* not a second <main>: the shell's content is the page's one main landmark */}
      <div style={{ flex: "auto", minWidth: 0 }}>
        <div style={{ display: "flex", flexWrap: "wrap", gap: 8, justifyContent: "space-between", alignItems: "center", marginBottom: 12 }} data-print="hide">
          <Breadcrumb items={crumbs} data-testid="breadcrumb" />
          <HeaderSearch app={app} />
        </div>
        <Suspense fallback={<Spin />}>
          <Outlet />
        </Suspense>
      </div>
    </Layout>
  );
}
