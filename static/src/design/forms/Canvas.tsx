// The canvas: the form as its users will see it — sections in their columns, fields as cards, a
// sub-table's columns side by side — where fields are dragged (dnd-kit sortable lists, one per
// container) and selected. Each card shows the problems the engine pinned on it, above the field
// as the runtime's renderer draws it (FieldDrawing).
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
import { useDroppable, type DraggableAttributes } from "@dnd-kit/core";
import { rectSortingStrategy, SortableContext, useSortable } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import type { Registry } from "@rjsf/utils";
import { Badge, Tooltip, Typography } from "antd";
import { memo, useDeferredValue, useMemo, type CSSProperties, type KeyboardEvent, type ReactNode } from "react";
import { useLang } from "../../i18n";
import { label, type Problem } from "../data";
import type { Drawing } from "./drawing";
import { FieldDrawing } from "./FieldDrawing";
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
  /** What the runtime draws fields with (``useFieldRegistry``). */
  registry: Registry;
  state: DesignerState;
  selected: string | null;
  onSelect: (id: string, kind: "field" | "section") => void;
  pins: Map<string, Problem[]>;
  /** Each field's and column's drawing by the runtime (``key``, ``table/column``), once the server
   * compiled the draft; a field without one (new, or in a draft that does not compile yet) shows
   * its name until it has. */
  drawings: ReadonlyMap<string, Drawing> | undefined;
}

const NO_PROBLEMS: Problem[] = [];

/** What a sub-table's card needs to draw its columns. */
interface TableProps {
  registry: Registry;
  /** The selected column, if it is one of this table's. */
  selected: string | null;
  onSelect: CanvasProps["onSelect"];
  pins: Map<string, Problem[]>;
  drawings: CanvasProps["drawings"];
}

interface CardProps {
  registry: Registry;
  node: FieldNode;
  container: ContainerId;
  selected: boolean;
  problems: Problem[];
  onSelect: CanvasProps["onSelect"];
  /** The runtime's drawing of the field (``undefined``: not compiled yet). */
  drawing: Drawing | undefined;
  /** For a sub-table: its columns. */
  table?: TableProps;
}

/** A field's card, as dnd-kit sorts it. dnd-kit draws every sortable again whenever a drag starts,
 * moves over another card or ends: this shell stays cheap, and what it holds (``CardFace``) is drawn
 * again only when its own props changed. */
const FieldCard = memo(function FieldCard(props: CardProps) {
  const { node, container, selected, problems, onSelect } = props;
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
    padding: "4px 8px 6px",
    background: "#fff",
    cursor: "grab",
    gridColumn: node.body.type === "sub_table" ? "1 / -1" : undefined,
    minWidth: 0,
    // a card out of sight is neither laid out nor painted (it keeps the height it last had)
    contentVisibility: "auto",
    containIntrinsicHeight: "auto 84px",
  };
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
      <CardFace {...props} handle={attributes} onHandleKey={onKeyDown as FaceProps["onHandleKey"]} handleRef={setActivatorNodeRef} dragging={isDragging} />
    </div>
  );
});

interface FaceProps extends CardProps {
  handle: DraggableAttributes;
  /** dnd-kit's keyboard activator (Space picks the field up). */
  onHandleKey: ((event: KeyboardEvent<HTMLButtonElement>) => void) | undefined;
  handleRef: (element: HTMLElement | null) => void;
  dragging: boolean;
}

/** A card's content: its handle, key and problems above what the runtime draws for the field. */
const CardFace = memo(function CardFace({ registry, node, problems, onSelect, drawing, table, handle, onHandleKey, handleRef, dragging }: FaceProps) {
  const { lang, t } = useLang();
  const name = label(node.body.label, lang, node.body.key);
  // the runtime's drawing names the field (its label, its required mark); a sub-table's card, and
  // a card not drawn yet, name it themselves
  const named = table !== undefined || drawing === undefined;
  return (
    <>
      <div style={{ display: "flex", alignItems: "center", gap: 6, minHeight: 18, lineHeight: "18px" }}>
        <button
          type="button"
          ref={handleRef}
          {...handle}
          onKeyDown={(e) => {
            // Enter selects the field; Space picks it up (dnd-kit's keyboard drag)
            if (e.key === "Enter" && !dragging) onSelect(node.id, "field");
            else onHandleKey?.(e);
          }}
          aria-label={t("design.form.drag", { name })}
          style={{ border: 0, background: "transparent", padding: 0, cursor: "grab", color: "#86909c" }}
          data-testid="design-field-handle"
        >
          <HolderOutlined />
        </button>
        {/* plain elements: a form draws hundreds of these, and antd's measuring ellipsis is slow */}
        <strong style={{ flex: 1, minWidth: 0, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>
          {named && (
            <>
              {node.body.required && <span style={{ color: "#f53f3f" }}>* </span>}
              {name}
            </>
          )}
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
      {table ? (
        <SubTable node={node} {...table} />
      ) : drawing ? (
        <FieldDrawing registry={registry} drawing={drawing} />
      ) : (
        // about the height of a drawn field (a label above an input): little moves once it is drawn
        <div style={{ color: "#5c6370", fontSize: 12, minHeight: 56 }} data-testid="design-field-undrawn">
          {iconOf(node.body.type)}
        </div>
      )}
    </>
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

/** The runtime's drawing of a field, if the last compiled draft had one of this type there. */
function drawingOf(drawings: CanvasProps["drawings"], path: string, node: FieldNode): Drawing | undefined {
  const drawing = drawings?.get(path);
  return drawing && drawing.info.type === node.body.type ? drawing : undefined;
}

function SubTable({ node, registry, selected, onSelect, pins, drawings }: { node: FieldNode } & TableProps) {
  const { t } = useLang();
  const id = `table:${node.id}` as ContainerId;
  const columns = node.columns ?? [];
  return (
    <SortableContext id={id} items={columns.map((c) => c.id)} strategy={rectSortingStrategy}>
      <Dropzone id={id} columns={Math.max(1, Math.min(columns.length, 4))} empty={t("design.form.columns_empty")} testId="design-table">
        {columns.map((column) => (
          <FieldCard
            key={column.id}
            registry={registry}
            node={column}
            container={id}
            selected={selected === column.id}
            problems={pins.get(column.id) ?? NO_PROBLEMS}
            onSelect={onSelect}
            drawing={drawingOf(drawings, `${node.body.key}/${column.body.key}`, column)}
          />
        ))}
      </Dropzone>
    </SortableContext>
  );
}

function Container({ id, props }: { id: ContainerId; props: CanvasProps }) {
  const { t } = useLang();
  const { registry, state, selected, onSelect, pins, drawings } = props;
  const ids = listOf(state, id);
  const byId = useMemo(() => new Map(state.fields.map((f) => [f.id, f])), [state.fields]);
  const section = id.startsWith("section:") ? state.sections?.find((s) => `section:${s.id}` === id) : undefined;
  const columns = Math.max(1, Math.min(Number(section?.body.columns ?? 1) || 1, 4));
  return (
    <SortableContext id={id} items={ids} strategy={rectSortingStrategy}>
      <Dropzone id={id} columns={columns} empty={t("design.form.empty")} testId="design-container">
        {ids.map((fieldId) => {
          const node = byId.get(fieldId);
          if (!node) return null;
          const table: TableProps | undefined =
            node.body.type === "sub_table"
              ? { registry, selected: node.columns?.some((c) => c.id === selected) ? selected : null, onSelect, pins, drawings }
              : undefined;
          return (
            <FieldCard
              key={fieldId}
              registry={registry}
              node={node}
              container={id}
              selected={selected === fieldId}
              problems={pins.get(fieldId) ?? NO_PROBLEMS}
              onSelect={onSelect}
              drawing={table ? undefined : drawingOf(drawings, node.body.key, node)}
              table={table}
            />
          );
        })}
      </Dropzone>
    </SortableContext>
  );
}

export function Canvas(given: CanvasProps) {
  const { lang, t } = useLang();
  // the runtime's drawings come in a render of their own that yields to the user (a form of 150
  // fields takes a few hundred milliseconds to draw): the cards are there, and can be dragged, first
  const drawings = useDeferredValue(given.drawings);
  const props = { ...given, drawings };
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
