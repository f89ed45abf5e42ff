// 待办 / 已办 / 抄送我 / 我发起的 (and, for administrators, 无人处理: tasks nobody may act on),
// with the count of each box. Open tasks come by due time, overdue first and marked, each with
// its urgency; a search by number or title and filters by form and flow narrow a box, and the
// box, search and filters live in the address so that Back keeps them. More pages load on demand.
import { ClockCircleOutlined } from "@ant-design/icons";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Badge, Button, Card, Empty, Input, List, Select, Space, Tabs, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { Link } from "react-router-dom";
import { useAddressState } from "../addressState";
import { api, type TaskItem } from "../api";
import { useLang } from "../i18n";
import { usePageTitle } from "../title";

const BOXES = ["todo", "done", "cc", "started", "incidents"] as const;
type Box = (typeof BOXES)[number];
const PAGE = 50;

interface Facet {
  app: string;
  key: string;
  label: string;
  count: number;
}

export interface InboxItem extends TaskItem {
  label: string;
  flow_label: string;
  form_label: string;
  title: string;
  due?: string | null;
  overdue?: boolean;
  urgency?: { value: string; label: string; rank: number | null } | null;
}

export interface InboxPage {
  items: InboxItem[];
  counts: Record<string, number>;
  facets: { forms: Facet[]; flows: Facet[] };
  next_offset: number | null;
}

/** The most urgent options in red, orange and gold (a form's options go from most urgent). */
const URGENCY = ["red", "orange", "gold"];
/** Their text in the darkest shade of each, for contrast on the tints. */
const URGENCY_INK = ["#a8071a", "#ad4e00", "#874d00"];

export function Inbox() {
  const { t, lang } = useLang();
  const [params, setAddress] = useAddressState();
  const box = (BOXES as readonly string[]).includes(params.get("box") ?? "") ? (params.get("box") as Box) : "todo";
  const q = params.get("q") ?? "";
  const form = params.get("form") ?? "";
  const flow = params.get("flow") ?? "";
  usePageTitle(t(`inbox.${box}`));
  /** Change the address's state; a new box starts without the old one's search and filters. */
  const change = (next: Record<string, string>) => {
    const out = new URLSearchParams(next.box && next.box !== box ? {} : params);
    for (const [key, value] of Object.entries(next)) {
      if (value) out.set(key, value);
      else out.delete(key);
    }
    if (out.get("box") === "todo") out.delete("box");
    setAddress(out);
  };
  const inbox = useInfiniteQuery({
    queryKey: ["inbox", box, lang, q, form, flow],
    queryFn: ({ pageParam }) =>
      api<InboxPage>("/tasks", {
        query: { box, lang, offset: pageParam, limit: PAGE, ...(q ? { q } : {}), ...(form ? { form } : {}), ...(flow ? { flow } : {}) },
      }),
    initialPageParam: 0,
    getNextPageParam: (last) => last.next_offset ?? undefined,
    refetchOnMount: "always",
    refetchInterval: 30_000,
  });
  const first = inbox.data?.pages[0];
  const counts = first?.counts ?? {};
  const items = inbox.data?.pages.flatMap((p) => p.items) ?? [];
  const facets = first?.facets ?? { forms: [], flows: [] };
  return (
    <Card>
      <Tabs
        activeKey={box}
        onChange={(key) => change({ box: key })}
        items={BOXES.filter((key) => key !== "incidents" || counts.incidents !== undefined).map((key) => ({
          key,
          label: (
            <span data-testid={`box-${key}`}>
              {t(`inbox.${key}`)} <Badge count={counts[key] ?? 0} showZero={false} size="small" />
            </span>
          ),
        }))}
      />
      <Space wrap style={{ marginBottom: 12 }}>
        <Input.Search
          key={`${box}-search`}
          allowClear
          defaultValue={q}
          placeholder={t("inbox.search")}
          aria-label={t("inbox.search")}
          onSearch={(value) => change({ q: value.trim() })}
          style={{ width: 240 }}
          data-testid="inbox-search"
        />
        <Select
          allowClear
          placeholder={t("inbox.form")}
          aria-label={t("inbox.form")}
          value={form || undefined}
          onChange={(value?: string) => change({ form: value ?? "" })}
          options={facets.forms.map((f) => ({ value: f.key, label: `${f.label} (${f.count})` }))}
          style={{ minWidth: 160 }}
          data-testid="inbox-form"
        />
        <Select
          allowClear
          placeholder={t("inbox.flow")}
          aria-label={t("inbox.flow")}
          value={flow || undefined}
          onChange={(value?: string) => change({ flow: value ?? "" })}
          options={facets.flows.map((f) => ({ value: f.key, label: `${f.label} (${f.count})` }))}
          style={{ minWidth: 160 }}
          data-testid="inbox-flow"
        />
      </Space>
      <List
        loading={inbox.isLoading}
        locale={{ emptyText: <Empty description={q || form || flow ? t("inbox.none_found") : t("inbox.empty")} /> }}
        dataSource={items}
        data-testid="inbox-list"
        renderItem={(task) => {
          const to = box === "todo" || box === "done" || box === "incidents" ? `/tasks/${task.id}` : `/apps/${task.app_key}/records/${task.form_key}/${task.record_id}`;
          const rank = task.urgency?.rank ?? null;
          return (
            <List.Item
              data-testid="inbox-item"
              data-record={task.record_id}
              data-overdue={task.overdue ? "true" : undefined}
              style={task.overdue ? { borderInlineStart: "3px solid #cf1322", paddingInlineStart: 12 } : undefined}
            >
              <List.Item.Meta
                title={
                  <Link to={to} data-testid={`task-${task.node ?? task.flow_key}`}>
                    {task.label} · {task.form_label} #{task.record_id} {task.title}
                  </Link>
                }
                description={
                  <Space size={[4, 4]} wrap>
                    {task.urgency && (
                      <Tag color={rank !== null ? URGENCY[rank] : undefined} style={rank !== null && rank < URGENCY.length ? { color: URGENCY_INK[rank] } : undefined}>
                        {task.urgency.label}
                      </Tag>
                    )}
                    <Tag>{task.flow_label}</Tag>
                    {task.status && <Tag color="blue" style={{ color: "#003eb3" }}>{t(`${box === "started" ? "flow" : "task"}.status.${task.status}`, {}, String(task.status))}</Tag>}
                    {task.due && (
                      <Typography.Text type={task.overdue ? "danger" : "secondary"} style={task.overdue ? { color: "#a8071a" } : undefined} data-testid="inbox-due">
                        <ClockCircleOutlined />{" "}
                        {task.overdue
                          ? t("inbox.overdue", { since: dayjs(task.due).format("MM-DD HH:mm") })
                          : t("inbox.due", { at: dayjs(task.due).format("MM-DD HH:mm") })}
                      </Typography.Text>
                    )}
                    <Typography.Text type="secondary">{new Date(String(task.created_at ?? task.started_at)).toLocaleString()}</Typography.Text>
                  </Space>
                }
              />
            </List.Item>
          );
        }}
      />
      {inbox.hasNextPage && (
        <div style={{ textAlign: "center", marginTop: 12 }}>
          <Button onClick={() => void inbox.fetchNextPage()} loading={inbox.isFetchingNextPage} data-testid="inbox-more">
            {t("inbox.more")}
          </Button>
        </div>
      )}
    </Card>
  );
}
