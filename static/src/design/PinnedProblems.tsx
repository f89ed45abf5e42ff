// The problems pinned on the element a property panel shows. They come with the engine's live
// verdict, a moment after an edit: drawn above the panel's fields they would push those fields
// down under a pointer that is about to click one (a radio chosen right after a rename landed on
// its neighbour). So the list sits below the fields, where it grows without moving anything,
// and the panel's heading line carries the count, a tag that fits the line it is on and scrolls
// to the list.
import { ExclamationCircleOutlined } from "@ant-design/icons";
import { Alert, Tag } from "antd";
import { useLang } from "../i18n";
import type { Problem } from "./data";

export function ProblemCount({ problems, anchor }: { problems: Problem[]; anchor: string }) {
  const { t } = useLang();
  if (!problems.length) return null;
  const show = () => document.getElementById(anchor)?.scrollIntoView({ block: "nearest" });
  return (
    <Tag
      color="error"
      icon={<ExclamationCircleOutlined />}
      style={{ cursor: "pointer", marginInlineEnd: 0 }}
      role="link"
      tabIndex={0}
      onClick={show}
      onKeyDown={(e) => e.key === "Enter" && show()}
      data-testid="pinned-problem-count"
    >
      {t("design.problems", { n: problems.length })}
    </Tag>
  );
}

export function PinnedProblems({ problems, anchor, testId }: { problems: Problem[]; anchor: string; testId: string }) {
  if (!problems.length) return null;
  return (
    <Alert
      id={anchor}
      type="error"
      showIcon
      style={{ marginTop: 12 }}
      data-testid={testId}
      message={
        <ul style={{ margin: 0, paddingInlineStart: 16 }}>
          {problems.map((p) => (
            <li key={`${p.path}:${p.code}:${p.message}`}>{p.message}</li>
          ))}
        </ul>
      }
    />
  );
}
