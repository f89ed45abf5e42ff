// The canvas: the form as its users will see it — sections in their columns, fields as cards, a
// sub-table's columns side by side — where fields are dragged (dnd-kit sortable lists, one per
// container) and selected. Each card shows the problems the engine pinned on it.
import {
  AlignLeftOutlined,
  CalendarOutlined,
  CheckCircleOutlined,
  CheckSquareOutlined,
  DownSquareOutlined,
  EditOutlined,
  EyeInvisibleOutlined,
  FieldNumberOutlined,
  FieldTimeOutlined,
  FileTextOutlined,
  FolderOpenOutlined,
  FontSizeOutlined,
  FunctionOutlined,
  HolderOutlined,
  LinkOutlined,
  MailOutlined,
  MoneyCollectOutlined,
  NumberOutlined,
  OrderedListOutlined,
  PaperClipOutlined,
  PhoneOutlined,
  SwapOutlined,
  TableOutlined,
  TeamOutlined,
  UserOutlined,
} from "@ant-design/icons";
import { useDroppable } from "@dnd-kit/core";
import { rectSortingStrategy, SortableContext, useSortable } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { Badge, Tooltip, Typography } from "antd";
import { memo, type CSSProperties, type ReactNode } from "react";
import { useLang } from "../../i18n";
import { label, type Problem } from "../data";
import { KIND_OF, listOf, topContainers, type ContainerId, type DesignerState, type FieldNode } from "./model";

export const ICONS: Record<string, ReactNode> = {
  FontSizeOutlined: <FontSizeOutlined />,
  AlignLeftOutlined: <AlignLeftOutlined />,
  FileTextOutlined: <FileTextOutlined />,
  NumberOutlined: <NumberOutlined />,
  FieldNumberOutlined: <FieldNumberOutlined />,
  MoneyCollectOutlined: <MoneyCollectOutlined />,
  MailOutlined: <MailOutlined />,
  PhoneOutlined: <PhoneOutlined />,
  DownSquareOutlined: <DownSquareOutlined />,
  CheckCircleOutlined: <CheckCircleOutlined />,
  CheckSquareOutlined: <CheckSquareOutlined />,
  SwapOutlined: <SwapOutlined />,
  CalendarOutlined: <CalendarOutlined />,
  FieldTimeOutlined: <FieldTimeOutlined />,
  UserOutlined: <UserOutlined />,
  TeamOutlined: <TeamOutlined />,
  PaperClipOutlined: <PaperClipOutlined />,
  FolderOpenOutlined: <FolderOpenOutlined />,
  EditOutlined: <EditOutlined />,
  LinkOutlined: <LinkOutlined />,
  TableOutlined: <TableOutlined />,
  FunctionOutlined: <FunctionOutlined />,
  OrderedListOutlined: <OrderedListOutlined />,
};

export const iconOf = (type: string): ReactNode => ICONS[KIND_OF[type]?.icon ?? ""] ?? <FontSizeOutlined />;

export interface CanvasProps {
  state: DesignerState;
  selected: string | null;
  onSelect: (id: string, kind: "field" | "section") => void;
  pins: Map<string, Problem[]>;
}

/** What a field's input will look like, greyed: its placeholder, its options, its columns. */
function Mock({ node }: { node: FieldNode }) {
  const { lang } = useLang();
  const body = node.body;
  let text = label(body.placeholder, lang);
  if (!text && body.options) text = body.options.map((o) => label(o.label, lang, o.value)).join(" / ");
  if (!text && body.type === "serial") text = String(body.serial ?? "");
  if (!text && body.type === "reference") text = `→ ${body.reference?.form ?? ""}`;
  return (
    <div
      style={{
        border: "1px solid #e5e6eb",
        borderRadius: 4,
        padding: "3px 8px",
        color: "#5c6370",
        background: "#fafafa",
        minHeight: body.type === "textarea" || body.type === "rich_text" ? 48 : 26,
        fontSize: 12,
        overflow: "hidden",
        whiteSpace: "nowrap",
        textOverflow: "ellipsis",
      }}
    >
      {iconOf(body.type)} {text}
    </div>
  );
}

const NO_PROBLEMS: Problem[] = [];

interface CardProps {
  node: FieldNode;
  container: ContainerId;
  selected: boolean;
  problems: Problem[];
  onSelect: CanvasProps["onSelect"];
  children?: ReactNode;
}

/** A field's card; unchanged fields (the same node, selection and problems) are not drawn again
 * when another field changes. */
const FieldCard = memo(function FieldCard({ node, container, selected, problems, onSelect, children }: CardProps) {
  const { lang, t } = useLang();
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id: node.id,
    data: { container, type: node.body.type },
  });
  const { onKeyDown, ...pointer } = listeners ?? {};
  const style: CSSProperties = {
    transform: CSS.Translate.toString(transform),
    transition: transition,
    opacity: isDragging ? 0.4 : 1,
    border: `1px ${selected ? "solid" : "dashed"} ${problems.length ? "#f53f3f" : selected ? "#1677ff" : "#d9d9d9"}`,
    boxShadow: selected ? "0 0 0 2px rgba(22,119,255,.15)" : undefined,
    borderRadius: 6,
    padding: "6px 8px",
    background: "#fff",
    cursor: "grab",
    gridColumn: node.body.type === "sub_table" ? "1 / -1" : undefined,
    minWidth: 0,
  };
  const name = label(node.body.label, lang, node.body.key);
  return (
    <div
      ref={setNodeRef}
      style={style}
      {...pointer}
      onClick={(e) => {
        e.stopPropagation();
        onSelect(node.id, "field");
      }}
      data-testid="design-field"
      data-key={node.body.key}
      data-selected={selected || undefined}
      data-problems={problems.length || undefined}
    >
      <div style={{ display: "flex", alignItems: "center", gap: 6, marginBottom: 4 }}>
        <button
          type="button"
          ref={setActivatorNodeRef}
          {...attributes}
          onKeyDown={(e) => {
            // Enter selects the field; Space picks it up (dnd-kit's keyboard drag)
            if (e.key === "Enter" && !isDragging) onSelect(node.id, "field");
            else onKeyDown?.(e);
          }}
          aria-label={t("design.form.drag", { name })}
          style={{ border: 0, background: "transparent", padding: 0, cursor: "grab", color: "#86909c" }}
          data-testid="design-field-handle"
        >
          <HolderOutlined />
        </button>
        {/* plain elements: a form draws hundreds of these, and antd's measuring ellipsis is slow */}
        <strong style={{ flex: 1, minWidth: 0, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>
          {node.body.required && <span style={{ color: "#f53f3f" }}>* </span>}
          {name}
        </strong>
        {node.body.visible_when !== undefined && (
          <EyeInvisibleOutlined style={{ color: "#5c6370" }} title={t("design.form.has_condition")} aria-label={t("design.form.has_condition")} />
        )}
        <span style={{ fontSize: 11, fontFamily: "monospace", color: "#5c6370" }}>{node.body.key}</span>
        {problems.length > 0 && (
          <Tooltip title={problems.map((p) => p.message).join("\n")}>
            <Badge count={problems.length} size="small" data-testid="design-field-problem-badge" />
          </Tooltip>
        )}
      </div>
      {children ?? <Mock node={node} />}
    </div>
  );
});

function Dropzone({ id, columns, empty, children, testId }: { id: ContainerId; columns: number; empty: string; children: ReactNode; testId: string }) {
  const { setNodeRef, isOver } = useDroppable({ id, data: { container: id } });
  return (
    <div
      ref={setNodeRef}
      style={{
        display: "grid",
        gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`,
        gap: 8,
        minHeight: 56,
        padding: 8,
        borderRadius: 6,
        background: isOver ? "#e8f3ff" : undefined,
        outline: isOver ? "1px dashed #1677ff" : undefined,
      }}
      data-testid={testId}
      data-container={id}
    >
      {children}
      {!Array.isArray(children) || children.length === 0 ? (
        <Typography.Text type="secondary" style={{ gridColumn: "1 / -1", textAlign: "center", alignSelf: "center" }}>
          {empty}
        </Typography.Text>
      ) : null}
    </div>
  );
}

function SubTable({ node, props }: { node: FieldNode; props: CanvasProps }) {
  const { t } = useLang();
  const id = `table:${node.id}` as ContainerId;
  const columns = node.columns ?? [];
  return (
    <SortableContext id={id} items={columns.map((c) => c.id)} strategy={rectSortingStrategy}>
      <Dropzone id={id} columns={Math.max(1, Math.min(columns.length, 4))} empty={t("design.form.columns_empty")} testId="design-table">
        {columns.map((column) => (
          <FieldCard
            key={column.id}
            node={column}
            container={id}
            selected={props.selected === column.id}
            problems={props.pins.get(column.id) ?? NO_PROBLEMS}
            onSelect={props.onSelect}
          />
        ))}
      </Dropzone>
    </SortableContext>
  );
}

function Container({ id, props }: { id: ContainerId; props: CanvasProps }) {
  const { t } = useLang();
  const { state } = props;
  const ids = listOf(state, id);
  const byId = new Map(state.fields.map((f) => [f.id, f]));
  const section = id.startsWith("section:") ? state.sections?.find((s) => `section:${s.id}` === id) : undefined;
  const columns = Math.max(1, Math.min(Number(section?.body.columns ?? 1) || 1, 4));
  return (
    <SortableContext id={id} items={ids} strategy={rectSortingStrategy}>
      <Dropzone id={id} columns={columns} empty={t("design.form.empty")} testId="design-container">
        {ids.map((fieldId) => {
          const node = byId.get(fieldId);
          if (!node) return null;
          return (
            <FieldCard
              key={fieldId}
              node={node}
              container={id}
              selected={props.selected === fieldId}
              problems={props.pins.get(fieldId) ?? NO_PROBLEMS}
              onSelect={props.onSelect}
            >
              {node.body.type === "sub_table" ? <SubTable node={node} props={props} /> : undefined}
            </FieldCard>
          );
        })}
      </Dropzone>
    </SortableContext>
  );
}

export function Canvas(props: CanvasProps) {
  const { lang, t } = useLang();
  const { state } = props;
  return (
    <div style={{ display: "flex", flexDirection: "column", gap: 12 }} data-testid="design-canvas">
      {topContainers(state).map((id, index) => {
        if (id === "root") return <Container key={id} id={id} props={props} />;
        const section = state.sections?.find((s) => `section:${s.id}` === id);
        if (id === "unplaced" && listOf(state, id).length === 0 && (state.sections?.length ?? 0) > 0) return null;
        const title = section ? label(section.body.title, lang, `${t("design.form.section")} ${index + 1}`) : t("design.form.unplaced");
        const selected = section && props.selected === section.id;
        return (
          <div
            key={id}
            style={{ border: `1px solid ${selected ? "#1677ff" : "#e5e6eb"}`, borderRadius: 8, background: "#fcfcfd" }}
            data-testid="design-section"
          >
            <div
              role={section ? "button" : undefined}
              tabIndex={section ? 0 : undefined}
              onClick={() => section && props.onSelect(section.id, "section")}
              onKeyDown={(e) => section && e.key === "Enter" && props.onSelect(section.id, "section")}
              style={{ padding: "6px 12px", borderBottom: "1px solid #f0f0f0", cursor: section ? "pointer" : undefined, fontWeight: 600 }}
            >
              {title}
            </div>
            <Container id={id} props={props} />
          </div>
        );
      })}
    </div>
  );
}
