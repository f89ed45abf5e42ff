// What visitors of a help center answered, for the service team (a drawer of the articles' list):
// how many said an article solved their problem, how many of those were on an intake page (a
// ticket the article made unnecessary: deflection) and how many said it did not.
import { ExportOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Drawer, Statistic, Table, Typography } from "antd";
import { Link } from "react-router-dom";
import { client, data, type Schemas } from "../client";
import { Failure } from "../Failure";
import { addStrings, useLang } from "../i18n";

addStrings({
  "help.feedback.title": ["帮助中心反馈", "Help center feedback"],
  "help.feedback.open": ["打开帮助中心", "Open the help center"],
  "help.feedback.solved": ["已解决", "Solved"],
  "help.feedback.deflected": ["提交前自助解决", "Solved before submitting"],
  "help.feedback.not_solved": ["未解决", "Not solved"],
  "help.feedback.article": ["文章", "Article"],
  "help.feedback.none": ["还没有访客反馈", "No answers from visitors yet"],
});

type Item = Schemas["FeedbackItem"];

export default function HelpFeedback(props: { app: string; form: string; open: boolean; onClose: () => void }) {
  const { t, lang } = useLang();
  const { app, form } = props;
  const found = useQuery({
    queryKey: ["help-feedback", app, form, lang],
    queryFn: async () => data(await client.GET("/api/v1/apps/{app}/help/{form}/feedback", { params: { path: { app, form }, query: { lang } } })),
    enabled: props.open,
  });
  return (
    <Drawer
      open={props.open}
      onClose={props.onClose}
      size="large"
      title={t("help.feedback.title")}
      extra={
        <a href={`/help/${app}`} target="_blank" rel="noreferrer" data-testid="help-open-center">
          <ExportOutlined /> {t("help.feedback.open")}
        </a>
      }
      data-testid="help-feedback-drawer"
    >
      {found.isError && <Failure error={found.error} what={t("help.feedback.title")} />}
      {found.data && (
        <>
          <div style={{ display: "flex", gap: 32, marginBottom: 16 }}>
            <Statistic title={t("help.feedback.solved")} value={found.data.solved} />
            <Statistic title={t("help.feedback.deflected")} value={found.data.deflected} />
            <Statistic title={t("help.feedback.not_solved")} value={found.data.not_solved} />
          </div>
          <Table<Item>
            rowKey="id"
            size="small"
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            dataSource={found.data.items}
            locale={{ emptyText: <Typography.Text type="secondary">{t("help.feedback.none")}</Typography.Text> }}
            columns={[
              { key: "title", title: t("help.feedback.article"), render: (_, item) => <Link to={`/apps/${app}/records/${form}/${item.id}`}>{item.title}</Link> },
              { key: "solved", title: t("help.feedback.solved"), dataIndex: "solved", align: "right" },
              { key: "deflected", title: t("help.feedback.deflected"), dataIndex: "deflected", align: "right" },
              { key: "not_solved", title: t("help.feedback.not_solved"), dataIndex: "not_solved", align: "right" },
            ]}
          />
        </>
      )}
    </Drawer>
  );
}
