// The header's bell: the unread count (polled like the inbox count) and a panel of the newest
// notifications — a popover on wide screens, a drawer on phones. Opening one marks it read and
// goes to its record or task; "mark all read" marks what the panel showed.
import { BellOutlined } from "@ant-design/icons";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Badge, Button, Drawer, Empty, Popover, Space, Spin, Typography } from "antd";
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { problemText } from "../api";
import { client, data, type Schemas } from "../client";
import { useLang } from "../i18n";
import { countText, linkOf, readUpTo } from "./model";

type Note = Schemas["Notification"];
const PATH = "/api/v1/me/notifications";
const PAGE = 20;
const KEY = ["notifications"];
/** Read by screen readers, not shown: the word "unread" that the tint and the dot show. */
const UNSEEN = {
  position: "absolute",
  width: 1,
  height: 1,
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  whiteSpace: "nowrap",
} as const;

/** The newest notifications, opened one by one. */
function Panel(props: { onOpened: () => void; unread: number }) {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const list = useInfiniteQuery({
    queryKey: [...KEY, "list"],
    queryFn: async ({ pageParam }) =>
      data(await client.GET(PATH, { params: { query: { newest_first: true, limit: PAGE, before: pageParam } } })),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_before ?? undefined,
    refetchOnMount: "always",
  });
  const notes = list.data?.pages.flatMap((p) => p.items) ?? [];
  const refresh = () => void queries.invalidateQueries({ queryKey: KEY });
  const readAll = useMutation({
    mutationFn: async () => data(await client.POST(`${PATH}/read`, { body: { up_to: readUpTo(notes) } })),
    onSuccess: refresh,
    onError: (error) => message.error(problemText(error)),
  });
  const open = async (note: Note) => {
    const link = linkOf(note.payload);
    if (!note.read_at) {
      try {
        await client.POST(`${PATH}/{notification_id}/read`, { params: { path: { notification_id: note.id } } });
      } catch (error) {
        message.error(problemText(error));
      }
      refresh();
    }
    if (link) {
      props.onOpened();
      navigate(link);
    }
  };
  return (
    <div style={{ width: "100%" }}>
      <Space style={{ width: "100%", justifyContent: "space-between", marginBottom: 8 }}>
        <Typography.Text type="secondary">{props.unread ? `${t("notifications.unread")} ${countText(props.unread)}` : null}</Typography.Text>
        <Button size="small" onClick={() => readAll.mutate()} disabled={!props.unread} loading={readAll.isPending} data-testid="notifications-read-all">
          {t("notifications.read_all")}
        </Button>
      </Space>
      {list.isLoading ? (
        <Spin />
      ) : notes.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("notifications.empty")} />
      ) : (
        <ul data-testid="notifications" style={{ listStyle: "none", margin: 0, padding: 0, maxHeight: "min(60vh, 480px)", overflowY: "auto" }}>
          {notes.map((n) => {
            const unread = !n.read_at;
            return (
              <li key={n.id} style={{ borderBottom: "1px solid #f0f0f0" }}>
                <button
                  type="button"
                  onClick={() => void open(n)}
                  data-testid="notification"
                  data-unread={unread ? "true" : "false"}
                  style={{
                    display: "flex",
                    gap: 8,
                    width: "100%",
                    padding: "8px 4px",
                    textAlign: "left",
                    background: unread ? "#e6f4ff" : "transparent",
                    border: 0,
                    cursor: "pointer",
                    font: "inherit",
                    color: "inherit",
                  }}
                >
                  <Badge status={unread ? "processing" : "default"} style={{ visibility: unread ? "visible" : "hidden" }} />
                  <span style={{ minWidth: 0, flex: 1, overflowWrap: "anywhere" }}>
                    <Typography.Text strong={unread} style={{ display: "block" }}>
                      {unread && <span style={UNSEEN}>{t("notifications.unread")} </span>}
                      {n.title}
                    </Typography.Text>
                    {n.body && (
                      <Typography.Paragraph type="secondary" ellipsis={{ rows: 2 }} style={{ marginBottom: 0 }}>
                        {n.body}
                      </Typography.Paragraph>
                    )}
                    <Typography.Text type="secondary" style={{ display: "block", fontSize: 12 }}>
                      <time dateTime={n.created_at}>{new Date(n.created_at).toLocaleString(lang)}</time>
                    </Typography.Text>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {list.hasNextPage && (
        <Button type="link" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
          {t("notifications.more")}
        </Button>
      )}
    </div>
  );
}

export function Bell(props: { phone: boolean }) {
  const { t } = useLang();
  const [open, setOpen] = useState(false);
  const count = useQuery({
    queryKey: [...KEY, "count"],
    queryFn: async () => data(await client.GET(PATH, { params: { query: { newest_first: true, limit: 1 } } })).unread,
    refetchInterval: 30_000,
  });
  const unread = count.data ?? 0;
  const shown = countText(unread);
  // the name holds the badge's number as shown, so that what is read matches what is seen
  const label = shown ? `${t("nav.notifications")} ${shown}` : t("nav.notifications");
  const button = (
    <Button
      type="text"
      aria-label={label}
      aria-expanded={open}
      data-testid="nav-bell"
      // the popover opens itself on a click; the drawer is opened here
      onClick={props.phone ? () => setOpen(true) : undefined}
      icon={
        <Badge count={unread} size="small" overflowCount={99}>
          <BellOutlined style={{ color: "#fff", fontSize: 18 }} />
        </Badge>
      }
    />
  );
  const panel = <Panel unread={unread} onOpened={() => setOpen(false)} />;
  if (props.phone) {
    return (
      <>
        {button}
        <Drawer open={open} onClose={() => setOpen(false)} title={t("nav.notifications")} placement="right" size="100%" destroyOnHidden data-testid="notifications-panel">
          {panel}
        </Drawer>
      </>
    );
  }
  return (
    <Popover
      open={open}
      onOpenChange={setOpen}
      trigger="click"
      placement="bottomRight"
      title={t("nav.notifications")}
      content={<div style={{ width: 360 }} data-testid="notifications-panel">{panel}</div>}
      destroyOnHidden
    >
      {button}
    </Popover>
  );
}
