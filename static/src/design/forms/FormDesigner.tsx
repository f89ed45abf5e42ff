// The form designer: the palette of field types, the canvas, the property panel and a live
// preview drawn by the runtime's own renderer. Every change is a pure operation on the designer
// state (model/), kept in an undo history; the definition it saves as goes up as the draft.
import {
  ArrowDownOutlined,
  ArrowUpOutlined,
  CopyOutlined,
  DeleteOutlined,
  DiffOutlined,
  RedoOutlined,
  SnippetsOutlined,
  UndoOutlined,
} from "@ant-design/icons";
import {
  closestCenter,
  DndContext,
  DragOverlay,
  type Announcements,
  KeyboardSensor,
  PointerSensor,
  pointerWithin,
  useDraggable,
  useSensor,
  useSensors,
  type CollisionDetection,
  type DragEndEvent,
  type DragStartEvent,
  type UniqueIdentifier,
} from "@dnd-kit/core";
import { sortableKeyboardCoordinates } from "@dnd-kit/sortable";
import { App, Button, Card, Dropdown, Space, Tabs, Tooltip, Typography } from "antd";
import { useCallback, useEffect, useMemo, useState, type KeyboardEvent } from "react";
import { useFieldRegistry } from "../../formField";
import { useLang } from "../../i18n";
import { label, type Body, type Problem } from "../data";
import type { FormSchema } from "../../api";
import type { DesignerProps } from "../DefinitionPage";
import { Canvas, iconOf } from "./Canvas";
import {
  addField,
  CATALOG,
  containerOf,
  dragPlace,
  duplicateField,
  findNode,
  GROUPS,
  KIND_OF,
  listOf,
  moveDown,
  moveField,
  moveToSection,
  moveUp,
  pasteField,
  pinOf,
  problemsByNode,
  push,
  redo,
  removeField,
  reset,
  start,
  toDefinition,
  toState,
  topContainers,
  undo,
  type Change,
  type ContainerId,
  type DesignerState,
  type FieldNode,
  type FieldType,
  type FormDefinition,
  type History,
} from "./model";
import { drawingsOf, type Drawing } from "./drawing";
import { FieldAccess } from "./FieldAccess";
import { IntakeLinks } from "./IntakeLinks";
import { Preview, usePreviewSchema, type Sample } from "./Preview";
import { FieldProperties, FormProperties, SectionProperties } from "./Properties";

type Selection = { kind: "field" | "section"; id: string } | null;

/** What was copied, kept while the designer is open in this tab (paste works across forms). */
let clipboard: FieldNode | null = null;

function PaletteItem({ type, onAdd }: { type: FieldType; onAdd: (type: FieldType) => void }) {
  const { lang, t } = useLang();
  const kind = KIND_OF[type];
  const { setNodeRef, listeners, isDragging } = useDraggable({ id: `palette:${type}`, data: { type } });
  const { onKeyDown: _keyboardDrag, ...pointer } = listeners ?? {};
  void _keyboardDrag; // the keyboard adds with Enter (a click); dragging is for pointers
  return (
    <button
      type="button"
      ref={setNodeRef}
      {...pointer}
      onClick={() => onAdd(type)}
      title={t("design.form.palette.help")}
      style={{
        display: "flex",
        alignItems: "center",
        gap: 6,
        width: "100%",
        padding: "5px 8px",
        border: "1px solid #e5e6eb",
        borderRadius: 4,
        background: isDragging ? "#e8f3ff" : "#fff",
        cursor: "grab",
        fontSize: 13,
        textAlign: "left",
      }}
      data-testid={`design-palette-${type}`}
    >
      {iconOf(type)}
      <span>{label(kind.name, lang)}</span>
    </button>
  );
}

function Palette({ onAdd }: { onAdd: (type: FieldType) => void }) {
  const { lang, t } = useLang();
  return (
    <div data-testid="design-palette" aria-label={t("design.form.palette")}>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {t("design.form.palette.help")}
      </Typography.Text>
      {Object.entries(GROUPS).map(([group, name]) => (
        <div key={group} style={{ marginTop: 10 }}>
          <Typography.Text strong style={{ fontSize: 12 }}>
            {label(name, lang)}
          </Typography.Text>
          <div style={{ display: "grid", gridTemplateColumns: "1fr 1fr", gap: 6, marginTop: 4 }}>
            {CATALOG.filter((k) => k.group === group).map((k) => (
              <PaletteItem key={k.type} type={k.type} onAdd={onAdd} />
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}

const CONTAINER = /^(section:|table:|unplaced$|root$)/;

/** The sensors' options, made once: new options make new sensors, and new sensors give every card
 * new drag listeners (every card drawn again on every change). */
const POINTER = { activationConstraint: { distance: 5 } };
const KEYBOARD = { coordinateGetter: sortableKeyboardCoordinates };

/** How long edits pause before the canvas asks the server to compile the draft it draws (ms). */
const DRAW_DELAY = 150;

export function FormDesigner({ app, body, setBody, problems, publishedKeys, focus }: DesignerProps) {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const [history, setHistory] = useState<History<DesignerState>>(() => start(toState(body as unknown as FormDefinition)));
  const [emitted, setEmitted] = useState<Body>(body);
  const [selection, setSelection] = useState<Selection>(null);
  const [panel, setPanel] = useState<"selected" | "form">("form");
  const [tab, setTab] = useState("design");
  const [dragging, setDragging] = useState<UniqueIdentifier | null>(null);
  const [copied, setCopied] = useState<FieldNode | null>(clipboard);
  const [seenFocus, setSeenFocus] = useState<Problem | null>(focus);
  const [sample, setSample] = useState<Sample>(null);
  const state = history.present;

  // a body from elsewhere (a reload, a restored version) starts a new history
  if (body !== emitted) {
    setEmitted(body);
    setHistory(reset(toState(body as unknown as FormDefinition)));
  }
  // a problem picked in the list selects the element it is pinned on
  if (focus !== seenFocus) {
    setSeenFocus(focus);
    if (focus) {
      const pin = pinOf(state, focus.path);
      if (pin.nodeId) {
        setSelection({ kind: "field", id: pin.nodeId });
        setPanel("selected");
      } else if (pin.sectionId) {
        setSelection({ kind: "section", id: pin.sectionId });
        setPanel("selected");
      } else setPanel("form");
      setTab("design");
    }
  }

  const pins = useMemo(() => problemsByNode(state, problems), [state, problems]);

  // the canvas draws each field with the runtime's renderer, from the draft the server compiled:
  // asked once edits pause a moment (the preview asks for the same, and shares the answer)
  const [drawnBody, setDrawnBody] = useState<Body>(body);
  useEffect(() => {
    if (emitted === drawnBody) return;
    const timer = setTimeout(() => setDrawnBody(emitted), DRAW_DELAY);
    return () => clearTimeout(timer);
  }, [emitted, drawnBody]);
  const compiled = usePreviewSchema(app, drawnBody).data;
  const registry = useFieldRegistry(app, String(body.key ?? ""));
  const [drawn, setDrawn] = useState<{ from: FormSchema | undefined; drawings: Map<string, Drawing> | undefined }>({
    from: undefined,
    drawings: undefined,
  });
  // unchanged fields keep their drawing (the same object): their cards are not drawn again; and
  // nothing is redrawn during a drag (the cards would move under the pointer, and away from where
  // dnd-kit measured them)
  if (compiled !== drawn.from && dragging === null) {
    setDrawn({ from: compiled, drawings: compiled ? drawingsOf(compiled, drawn.drawings) : drawn.drawings });
  }

  const emit = useCallback(
    (next: DesignerState) => {
      const definition = toDefinition(next) as unknown as Body;
      setEmitted(definition);
      setBody(definition);
    },
    [setBody],
  );

  const edit = useCallback(
    (next: DesignerState, tag: string | null = null) => {
      if (next === history.present) return;
      setHistory(push(history, next, tag, Date.now()));
      emit(next);
    },
    [history, emit],
  );

  const apply = (change: Change) => {
    if (change.refused) {
      void message.warning(label(change.refused.message, lang));
      return;
    }
    edit(change.state);
    if (change.id) {
      setSelection({ kind: "field", id: change.id });
      setPanel("selected");
    }
  };

  const step = (to: History<DesignerState>) => {
    if (to === history) return;
    setHistory(to);
    emit(to.present);
  };

  /** Where a click on the palette adds: after the selected field, or at the end of the form. */
  const insertionPoint = (): { container: ContainerId; index: number } => {
    if (selection?.kind === "field") {
      const where = containerOf(state, selection.id);
      if (where) return { container: where.container, index: where.index + 1 };
    }
    if (selection?.kind === "section") {
      const container = `section:${selection.id}` as ContainerId;
      return { container, index: listOf(state, container).length };
    }
    const containers = topContainers(state);
    const last = containers.length > 1 ? containers[containers.length - 2] : containers[0];
    return { container: last, index: listOf(state, last).length };
  };

  const add = (type: FieldType) => {
    let { container, index } = insertionPoint();
    if (container.startsWith("table:") && !KIND_OF[type].inTable) {
      const table = findNode(state, container.slice(6));
      const where = table && containerOf(state, table.node.id);
      if (where) ({ container, index } = { container: where.container, index: where.index + 1 });
    }
    apply(addField(state, type, container, index, lang));
  };

  const remove = (id: string) => {
    const found = findNode(state, id);
    const change = removeField(state, id);
    if (change.refused) return apply(change);
    edit(change.state);
    setSelection(null);
    setPanel("form");
    if (change.references.length) {
      const names = change.references.map((ref) => label(findNode(change.state, ref)?.node.body.label, lang, ref)).join("、");
      void message.warning(t("design.form.removed_refs", { list: names }));
    } else if (found) void message.info(`${t("design.form.delete")}：${label(found.node.body.label, lang)}`);
  };

  const copy = (id: string) => {
    const found = findNode(state, id);
    if (!found) return;
    clipboard = found.node;
    setCopied(found.node);
    void message.success(t("design.form.copied"));
  };

  const paste = () => {
    if (!copied) return;
    const { container, index } = insertionPoint();
    apply(pasteField(state, copied, container, index));
  };

  const selectedField = selection?.kind === "field" ? selection.id : null;

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const target = e.target as HTMLElement;
    if (target.closest("input, textarea, [contenteditable=true], .ant-select")) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === "z") {
      e.preventDefault();
      step(e.shiftKey ? redo(history) : undo(history));
    } else if (mod && e.key.toLowerCase() === "y") {
      e.preventDefault();
      step(redo(history));
    } else if (mod && e.key.toLowerCase() === "c" && selectedField) {
      copy(selectedField);
    } else if (mod && e.key.toLowerCase() === "v") {
      paste();
    } else if ((e.key === "Delete" || e.key === "Backspace") && selectedField) {
      e.preventDefault();
      remove(selectedField);
    }
  };

  // --- dragging --------------------------------------------------------------------------------
  const sensors = useSensors(useSensor(PointerSensor, POINTER), useSensor(KeyboardSensor, KEYBOARD));

  const columnIds = useMemo(() => new Set(state.fields.flatMap((f) => (f.columns ?? []).map((c) => c.id))), [state]);

  /** The innermost target under the pointer: a column, a sub-table, a field, a section. A sub-table
   * dragged never targets a sub-table's columns. */
  const collision: CollisionDetection = useCallback(
    (args) => {
      const type = args.active.data.current?.type as string | undefined;
      const tableAllowed = type === undefined || KIND_OF[type]?.inTable !== false;
      const rank = (id: UniqueIdentifier) => {
        const s = String(id);
        if (columnIds.has(s)) return 0;
        if (s.startsWith("table:")) return 1;
        return CONTAINER.test(s) ? 3 : 2;
      };
      const usable = (hits: ReturnType<CollisionDetection>) =>
        hits.filter((hit) => tableAllowed || (rank(hit.id) > 1 && String(hit.id) !== `table:${args.active.id}`));
      const within = usable(pointerWithin(args));
      const hits = within.length ? within : usable(closestCenter(args));
      return [...hits].sort((a, b) => rank(a.id) - rank(b.id));
    },
    [columnIds],
  );

  const onDragStart = (event: DragStartEvent) => setDragging(event.active.id);

  const onDragEnd = ({ active, over }: DragEndEvent) => {
    setDragging(null);
    if (!over || active.id === over.id) return;
    const sortable = over.data.current?.sortable as { containerId: ContainerId; index: number } | undefined;
    const container = sortable ? sortable.containerId : (String(over.id) as ContainerId);
    if (!CONTAINER.test(container)) return;
    const id = String(active.id);
    // a new field, or one from another list, goes before the field it is dropped on, or after it
    // when dropped on its lower (or, beside it, right) half; within one list the sortable order
    // already says where
    const dragged = active.rect.current.translated;
    const from = id.startsWith("palette:") ? undefined : containerOf(state, id)?.container;
    let after = false;
    if (sortable && dragged && from !== container) {
      const dx = dragged.left + dragged.width / 2 - (over.rect.left + over.rect.width / 2);
      const dy = dragged.top + dragged.height / 2 - (over.rect.top + over.rect.height / 2);
      after = dy > over.rect.height / 4 || (Math.abs(dy) <= over.rect.height / 4 && dx > 0);
    }
    const index = sortable ? sortable.index + (after ? 1 : 0) : listOf(state, container).length;
    if (id.startsWith("palette:")) apply(addField(state, id.slice(8) as FieldType, container, index, lang));
    else {
      const change = moveField(state, id, container, index);
      if (change.refused) apply(change);
      else edit(change.state);
    }
  };

  /** dnd-kit's announcements are English and name ids: these say, in the user's language, what is
   * picked up, what it is over and where it lands. */
  const announcements = useMemo((): Announcements => {
    const place = (id: UniqueIdentifier) => {
      const it = dragPlace(state, String(id));
      switch (it.kind) {
        case "form":
          return t("design.form.drag.place.form");
        case "unplaced":
          return t("design.form.unplaced");
        case "section":
          return t("design.form.drag.place.section", { name: label(it.name, lang, String(it.index)) });
        case "table":
          return t("design.form.drag.place.table", { name: label(it.name, lang) });
        case "new":
          return t("design.form.drag.place.new", { name: label(it.name, lang) });
        default:
          return t("design.form.drag.place.field", { name: label(it.name, lang) });
      }
    };
    return {
      onDragStart: ({ active }) => t("design.form.drag.start", { name: place(active.id) }),
      onDragOver: ({ active, over }) =>
        over ? t("design.form.drag.over", { name: place(active.id), target: place(over.id) }) : t("design.form.drag.nowhere", { name: place(active.id) }),
      onDragEnd: ({ active, over }) =>
        over ? t("design.form.drag.end", { name: place(active.id), target: place(over.id) }) : t("design.form.drag.cancel", { name: place(active.id) }),
      onDragCancel: ({ active }) => t("design.form.drag.cancel", { name: place(active.id) }),
    };
  }, [state, t, lang]);

  const draggedName = (() => {
    if (dragging === null) return "";
    const id = String(dragging);
    if (id.startsWith("palette:")) return label(KIND_OF[id.slice(8)]?.name, lang);
    return label(findNode(state, id)?.node.body.label, lang);
  })();

  // --- the panel ------------------------------------------------------------------------------
  const sectionIds = state.sections ?? [];
  const toolbar = (
    <Space wrap size={4} data-testid="design-toolbar" onClick={(e) => e.stopPropagation()}>
      <Tooltip title={`${t("design.form.undo")} (Ctrl+Z)`}>
        <Button icon={<UndoOutlined />} disabled={!history.past.length} onClick={() => step(undo(history))} aria-label={t("design.form.undo")} data-testid="design-undo" />
      </Tooltip>
      <Tooltip title={`${t("design.form.redo")} (Ctrl+Shift+Z)`}>
        <Button icon={<RedoOutlined />} disabled={!history.future.length} onClick={() => step(redo(history))} aria-label={t("design.form.redo")} data-testid="design-redo" />
      </Tooltip>
      <Tooltip title={`${t("design.form.copy")} (Ctrl+C)`}>
        <Button icon={<CopyOutlined />} disabled={!selectedField} onClick={() => selectedField && copy(selectedField)} aria-label={t("design.form.copy")} data-testid="design-copy" />
      </Tooltip>
      <Tooltip title={`${t("design.form.paste")} (Ctrl+V)`}>
        <Button icon={<SnippetsOutlined />} disabled={!copied} onClick={paste} aria-label={t("design.form.paste")} data-testid="design-paste" />
      </Tooltip>
      <Tooltip title={t("design.form.duplicate")}>
        <Button icon={<DiffOutlined />} disabled={!selectedField} onClick={() => selectedField && apply(duplicateField(state, selectedField))} aria-label={t("design.form.duplicate")} data-testid="design-duplicate" />
      </Tooltip>
      <Tooltip title={t("design.form.up")}>
        <Button icon={<ArrowUpOutlined />} disabled={!selectedField} onClick={() => selectedField && apply(moveUp(state, selectedField))} aria-label={t("design.form.up")} data-testid="design-up" />
      </Tooltip>
      <Tooltip title={t("design.form.down")}>
        <Button icon={<ArrowDownOutlined />} disabled={!selectedField} onClick={() => selectedField && apply(moveDown(state, selectedField))} aria-label={t("design.form.down")} data-testid="design-down" />
      </Tooltip>
      {sectionIds.length > 0 && (
        <Dropdown
          disabled={!selectedField || columnIds.has(selectedField)}
          menu={{
            items: sectionIds.map((s, i) => ({ key: s.id, label: label(s.body.title, lang, `${t("design.form.section")} ${i + 1}`) })),
            onClick: ({ key }) => selectedField && apply(moveToSection(state, selectedField, key)),
          }}
        >
          <Button disabled={!selectedField || columnIds.has(selectedField)} data-testid="design-to-section">
            {t("design.form.to_section")}
          </Button>
        </Dropdown>
      )}
      <Tooltip title={`${t("design.form.delete")} (Delete)`}>
        <Button danger icon={<DeleteOutlined />} disabled={!selectedField} onClick={() => selectedField && remove(selectedField)} aria-label={t("design.form.delete")} data-testid="design-delete" />
      </Tooltip>
    </Space>
  );

  const select = useCallback((id: string, kind: "field" | "section") => {
    setSelection({ kind, id });
    setPanel("selected");
  }, []);

  // a field's panel is its own (keyed by the field): what one field's editors hold while being
  // typed (a formula's template and half-written JSON) does not show under the next field, and
  // the panel is drawn anew rather than rearranged under the pointer
  const selectedPanel =
    selection?.kind === "field" ? (
      <FieldProperties key={selection.id} app={app} state={state} id={selection.id} publishedKeys={publishedKeys} problems={pins.get(selection.id) ?? []} edit={edit} sample={sample} />
    ) : selection?.kind === "section" ? (
      <SectionProperties state={state} id={selection.id} edit={edit} />
    ) : (
      <Typography.Text type="secondary">{t("design.form.props.none")}</Typography.Text>
    );

  const design = (
    <DndContext
      sensors={sensors}
      collisionDetection={collision}
      onDragStart={onDragStart}
      onDragEnd={onDragEnd}
      onDragCancel={() => setDragging(null)}
      accessibility={{
        announcements,
        screenReaderInstructions: { draggable: t("design.form.drag.instructions") },
      }}
    >
      <div
        style={{ display: "grid", gridTemplateColumns: "210px minmax(0, 1fr) 340px", gap: 12, alignItems: "start" }}
        onKeyDown={onKeyDown}
      >
        <Card size="small" title={t("design.form.palette")} styles={{ body: { maxHeight: "calc(100vh - 260px)", overflow: "auto" } }}>
          <Palette onAdd={add} />
        </Card>
        <Card
          size="small"
          title={toolbar}
          styles={{ body: { maxHeight: "calc(100vh - 260px)", overflow: "auto", background: "#f7f8fa" } }}
          onClick={() => {
            setSelection(null);
            setPanel("form");
          }}
        >
          <Canvas registry={registry} state={state} selected={selection?.id ?? null} onSelect={select} pins={pins} drawings={drawn.drawings} />
        </Card>
        <Card size="small" styles={{ body: { maxHeight: "calc(100vh - 260px)", overflow: "auto" } }} data-testid="design-properties">
          <Tabs
            size="small"
            activeKey={panel}
            onChange={(k) => setPanel(k as "selected" | "form")}
            items={[
              { key: "selected", label: selection?.kind === "section" ? t("design.form.section") : t("design.form.props.field"), children: selectedPanel },
              {
                key: "form",
                label: t("design.form.props.form"),
                children: <FormProperties app={app} state={state} edit={edit} problems={pins.get("") ?? []} onSection={(id) => select(id, "section")} />,
              },
            ]}
          />
        </Card>
      </div>
      <DragOverlay dropAnimation={null}>
        {dragging !== null ? (
          <div style={{ padding: "6px 10px", background: "#fff", border: "1px solid #1677ff", borderRadius: 6, boxShadow: "0 6px 16px rgba(0,0,0,.12)" }}>
            {draggedName}
          </div>
        ) : null}
      </DragOverlay>
    </DndContext>
  );

  return (
    <Tabs
      activeKey={tab}
      onChange={setTab}
      items={[
        { key: "design", label: t("design.form.canvas"), children: design },
        { key: "preview", label: t("design.form.preview"), children: <Preview app={app} body={emitted} values={sample} setValues={setSample} /> },
        { key: "access", label: t("design.form.access"), children: tab === "access" ? <FieldAccess app={app} definition={emitted as unknown as FormDefinition} /> : null },
        { key: "intake", label: t("design.form.intake"), children: tab === "intake" ? <IntakeLinks app={app} definition={emitted as unknown as FormDefinition} published={publishedKeys.size > 0} /> : null },
      ]}
      data-testid="design-form-tabs"
    />
  );
}
