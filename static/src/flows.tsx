// How a flow reads to people: node labels in their language, the history with names.
import { Tag, Timeline, Typography } from "antd";
import { usePeopleNames } from "./values/queries";
import { useLang, type Lang } from "./i18n";

export type Labels = Record<string, Record<string, string>>;

export interface HistoryEntry {
  node: string;
  actor: number | null;
  action: string;
  opinion?: string | null;
  at?: string;
}

/** A node's label in the language shown (its id when it has none). */
export function nodeLabel(nodes: Labels | undefined, node: string, lang: Lang): string {
  const label = nodes?.[node];
  return label?.[lang] ?? label?.["zh-CN"] ?? node;
}

/** The flow's history, newest last, with people's names and nodes' labels. */
export function FlowHistory(props: { app: string; history: HistoryEntry[]; nodes: Labels | undefined }) {
  const { t, lang } = useLang();
  const name = usePeopleNames(props.app, props.history.map((h) => h.actor)).user;
  return (
    <Timeline
      items={props.history.map((h) => ({
        color: h.action === "rejected" || h.action === "returned" ? "red" : "blue",
        content: (
          <div>
            <Typography.Text strong>{nodeLabel(props.nodes, h.node, lang)}</Typography.Text>{" "}
            <Tag>{t(`flow.${h.action}`, {}, h.action)}</Tag>
            {h.actor !== null && <Typography.Text>{name(h.actor)}</Typography.Text>}{" "}
            {h.at && <Typography.Text type="secondary">{new Date(h.at).toLocaleString()}</Typography.Text>}
            {h.opinion && (
              <div>
                <Typography.Text type="secondary">“{h.opinion}”</Typography.Text>
              </div>
            )}
          </div>
        ),
      }))}
    />
  );
}
