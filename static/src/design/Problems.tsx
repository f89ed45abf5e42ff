// The engine's verdict on the draft: problems (which refuse publishing) and warnings, each with
// where it is; choosing one selects the element it is pinned on.
import { CheckCircleOutlined, ExclamationCircleOutlined, LoadingOutlined, WarningOutlined } from "@ant-design/icons";
import { Alert, Badge, Button, List, Popover, Space, Typography } from "antd";
import { useLang } from "../i18n";
import type { Problem } from "./data";

export function ProblemsButton({
  problems,
  warnings,
  checking,
  describe,
  onPick,
}: {
  problems: Problem[];
  warnings: Problem[];
  checking: boolean;
  /** Where a problem is, for people (a field's label rather than its pointer). */
  describe: (path: string) => string;
  onPick?: (problem: Problem) => void;
}) {
  const { t } = useLang();
  const content = (
    <List
      size="small"
      style={{ width: 420, maxHeight: 420, overflow: "auto" }}
      dataSource={[...problems.map((p) => ({ ...p, level: "error" as const })), ...warnings.map((p) => ({ ...p, level: "warning" as const }))]}
      locale={{ emptyText: t("design.problems.none") }}
      renderItem={(p) => (
        <List.Item
          onClick={() => onPick?.(p)}
          style={{ cursor: onPick ? "pointer" : undefined }}
          data-testid="design-problem"
        >
          <Space align="start">
            {p.level === "error" ? <ExclamationCircleOutlined style={{ color: "#cf1322" }} /> : <WarningOutlined style={{ color: "#d48806" }} />}
            <span>
              <Typography.Text strong>{describe(p.path)}</Typography.Text> <Typography.Text>{p.message}</Typography.Text>
            </span>
          </Space>
        </List.Item>
      )}
    />
  );
  const icon = checking ? (
    <LoadingOutlined />
  ) : problems.length ? (
    <ExclamationCircleOutlined style={{ color: "#cf1322" }} />
  ) : (
    <CheckCircleOutlined style={{ color: "#389e0d" }} />
  );
  return (
    <Popover content={content} title={t("design.problems.title")} trigger="click" placement="bottomRight">
      <Button icon={icon} data-testid="design-problems">
        {checking && !problems.length
          ? t("design.problems.checking")
          : problems.length
            ? t("design.problems", { n: problems.length })
            : t("design.problems.none")}
        {warnings.length > 0 && <Badge count={warnings.length} color="#d48806" style={{ marginInlineStart: 6 }} />}
      </Button>
    </Popover>
  );
}

/** The problems pinned at ``prefix`` or inside it, shown above the part of a designer they are about. */
export function PinnedProblems({ problems, prefix, testId }: { problems: Problem[]; prefix: string; testId: string }) {
  const mine = problems.filter((p) => p.path === prefix || p.path.startsWith(`${prefix}/`));
  if (!mine.length) return null;
  return <Alert type="error" showIcon style={{ marginBottom: 8 }} message={mine.map((p) => p.message).join("；")} data-testid={testId} />;
}
