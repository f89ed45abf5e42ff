// Installed apps, each with the forms, dashboards and flows the signed-in user may use.
import { BarChartOutlined, FormOutlined } from "@ant-design/icons";
import { useQueries, useQuery } from "@tanstack/react-query";
import { Card, Col, Empty, List, Row, Spin, Typography } from "antd";
import { Link } from "react-router-dom";
import { api, type AppInfo, type Navigation } from "../api";
import { Failure } from "../Failure";
import { useLang } from "../i18n";
import { usePageTitle } from "../title";

export function Launcher() {
  const { t, lang } = useLang();
  usePageTitle(t("nav.apps"));
  const apps = useQuery({ queryKey: ["apps"], queryFn: () => api<AppInfo[]>("/apps") });
  const menus = useQueries({
    queries: (apps.data ?? []).map((app) => ({
      queryKey: ["navigation", app.key, lang],
      queryFn: () => api<Navigation>(`/apps/${app.key}/navigation`, { query: { lang } }),
      retry: false,
    })),
  });
  if (apps.isLoading) return <Spin />;
  if (apps.isError) return <Failure error={apps.error} />;
  if (!apps.data?.length) return <Empty description={t("apps.empty")} />;
  return (
    <Row gutter={[16, 16]}>
      {menus.map((menu, i) => {
        const app = apps.data[i];
        const nav = menu.data;
        return (
          <Col key={app.key} xs={24} lg={12}>
            <Card
              title={nav?.app.name ?? app.name[lang] ?? app.name["zh-CN"]}
              extra={<Typography.Text type="secondary">v{app.version}</Typography.Text>}
              loading={menu.isLoading}
            >
              {nav && (
                <>
                  {nav.app.strings["app.subtitle"] && (
                    <Typography.Paragraph type="secondary">{nav.app.strings["app.subtitle"]}</Typography.Paragraph>
                  )}
                  <Typography.Title level={5}>{t("apps.dashboards")}</Typography.Title>
                  <List
                    size="small"
                    dataSource={nav.dashboards}
                    renderItem={(d) => (
                      <List.Item>
                        <Link to={`/apps/${app.key}/dashboards/${d.key}`}>
                          <BarChartOutlined /> {d.label}
                        </Link>
                      </List.Item>
                    )}
                  />
                  <Typography.Title level={5}>{t("apps.forms")}</Typography.Title>
                  <List
                    size="small"
                    grid={{ gutter: 8, xs: 1, sm: 2, md: 3 }}
                    dataSource={nav.forms}
                    renderItem={(f) => (
                      <List.Item>
                        <Link to={`/apps/${app.key}/records/${f.key}`} data-testid={`form-${f.key}`}>
                          <FormOutlined /> {f.label}
                        </Link>
                      </List.Item>
                    )}
                  />
                </>
              )}
            </Card>
          </Col>
        );
      })}
    </Row>
  );
}
