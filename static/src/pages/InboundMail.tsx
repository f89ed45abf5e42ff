// Administration: the inbound e-mail (来信) the SMTP endpoint received, their states, and retrying
// a dead one.
import { useQuery } from "@tanstack/react-query";
import { App as AntApp, Button, Select, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { api, ApiError } from "../api";
import { useLang } from "../i18n";

interface InboundMailRow {
  id: number;
  recipient: string;
  sender: string;
  subject: string;
  state: "received" | "processed" | "refused" | "dead";
  outcome: string;
  attempts: number;
  last_error: string | null;
  record_id: number | null;
  received_at: string;
}

const STATES = ["received", "processed", "refused", "dead"] as const;
const COLORS: Record<InboundMailRow["state"], string> = {
  received: "blue",
  processed: "green",
  refused: "default",
  dead: "red",
};
/** Text dark enough on each tag's tint for WCAG AA (antd's own are not). */
const INK: Record<InboundMailRow["state"], string | undefined> = {
  received: "#003eb3",
  processed: "#135200",
  refused: undefined,
  dead: "#a8071a",
};

export function InboundMail() {
  const { t } = useLang();
  const { message } = AntApp.useApp();
  const [state, setState] = useState<string | undefined>(undefined);
  const mails = useQuery({
    queryKey: ["admin-inbound-mail", state],
    queryFn: () => api<{ items: InboundMailRow[] }>("/mail/inbound", { query: { state, limit: 200 } }),
  });
  const retry = async (id: number) => {
    try {
      await api(`/mail/inbound/${id}/retry`, { method: "POST", body: {} });
      message.success(t("admin.mail.retried"));
      await mails.refetch();
    } catch (exc) {
      message.error(exc instanceof ApiError ? exc.message : String(exc));
    }
  };
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Select
        allowClear
        style={{ width: 200, maxWidth: "100%" }}
        placeholder={t("admin.mail.all_states")}
        aria-label={t("admin.mail.state")}
        value={state}
        onChange={(v) => setState(v)}
        options={STATES.map((s) => ({ value: s, label: t(`admin.mail.state.${s}`) }))}
        data-testid="mail-state"
      />
      <Table<InboundMailRow>
        rowKey="id"
        size="small"
        scroll={{ x: true }}
        loading={mails.isLoading}
        dataSource={mails.data?.items ?? []}
        data-testid="mail-table"
        columns={[
          { key: "received_at", title: t("admin.mail.received_at"), render: (_: unknown, m) => new Date(m.received_at).toLocaleString() },
          { key: "sender", title: t("admin.mail.sender"), render: (_: unknown, m) => m.sender || "—" },
          { key: "subject", title: t("admin.mail.subject"), render: (_: unknown, m) => <Typography.Text ellipsis style={{ maxWidth: 240 }}>{m.subject || "—"}</Typography.Text> },
          {
            key: "state",
            title: t("admin.mail.state"),
            render: (_: unknown, m) => (
              <Space size={4} wrap>
                <Tag color={COLORS[m.state]} style={{ color: INK[m.state] }}>{t(`admin.mail.state.${m.state}`)}</Tag>
                {m.outcome ? <Typography.Text type="secondary">{m.outcome}</Typography.Text> : null}
              </Space>
            ),
          },
          { key: "attempts", title: t("admin.mail.attempts"), dataIndex: "attempts" },
          { key: "record", title: t("admin.mail.record"), render: (_: unknown, m) => (m.record_id ? `#${m.record_id}` : "—") },
          { key: "error", title: t("admin.mail.error"), render: (_: unknown, m) => m.last_error ?? "" },
          {
            key: "do",
            title: "",
            render: (_: unknown, m) =>
              m.state === "dead" ? (
                <Button size="small" onClick={() => void retry(m.id)} data-testid={`mail-retry-${m.id}`}>
                  {t("admin.mail.retry")}
                </Button>
              ) : null,
          },
        ]}
      />
    </Space>
  );
}
