// The decision table editor: the form it reads, the hit policy, input columns typed from the
// form's fields and output columns, rows of condition cells (an operator and its value, picked
// from the field's options where it has them) dragged into order (or moved up and down), the inputs no row matches (the
// engine's exact gap check) with a catch-all row one click away, and the table's test cases as a
// second grid whose pass or fail is the engine's live verdict.
import { ArrowDownOutlined, ArrowUpOutlined, CheckCircleFilled, CloseCircleFilled, DeleteOutlined, HolderOutlined, PlusOutlined, WarningFilled } from "@ant-design/icons";
import { closestCenter, DndContext, KeyboardSensor, PointerSensor, useSensor, useSensors, type Announcements, type DragEndEvent, type DraggableSyntheticListeners, type UniqueIdentifier } from "@dnd-kit/core";
import { SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { Alert, Button, Card, Input, InputNumber, Popover, Select, Space, Table, Tooltip, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { createContext, useContext, useMemo, useState, type CSSProperties, type HTMLAttributes } from "react";
import { useLang } from "../../i18n";
import { label, useOverview, type Body, type Problem } from "../data";
import type { DesignerProps } from "../DefinitionPage";
import { useFlowForm, type FormField } from "../flows/data";
import { TextI18n } from "../forms/editors";
import "./strings";
import {
  addColumn,
  blankRow,
  CELL_OPS,
  cellOf,
  cellText,
  gapText,
  HIT_POLICIES,
  moveRow,
  rawOf,
  removeColumn,
  setCell,
  switchCell,
  testResults,
  type Cell,
  type CellOp,
  type DecisionTableBody,
  type Row,
  type TestCase,
} from "./table";

type Lang = "zh-CN" | "en";

/** The drag handle of the row it sits in (dnd-kit's sortable rows, antd's table body). */
const RowHandle = createContext<{ setActivatorNodeRef?: (element: HTMLElement | null) => void; listeners?: DraggableSyntheticListeners }>({});

function SortableRow(props: HTMLAttributes<HTMLTableRowElement> & { "data-row-key"?: string | number }) {
  const id = String(props["data-row-key"] ?? "");
  const { setNodeRef, setActivatorNodeRef, listeners, transform, transition, isDragging } = useSortable({ id });
  const style: CSSProperties = {
    ...props.style,
    transform: CSS.Translate.toString(transform),
    transition,
    ...(isDragging ? { position: "relative", zIndex: 9, background: "#e6f4ff" } : {}),
  };
  const handle = useMemo(() => ({ setActivatorNodeRef, listeners }), [setActivatorNodeRef, listeners]);
  return (
    <RowHandle.Provider value={handle}>
      <tr {...props} ref={setNodeRef} style={style} />
    </RowHandle.Provider>
  );
}

function DragHandle({ label: name, testId }: { label: string; testId: string }) {
  const { setActivatorNodeRef, listeners } = useContext(RowHandle);
  return (
    <Button size="small" type="text" icon={<HolderOutlined />} style={{ cursor: "grab" }} ref={setActivatorNodeRef} {...listeners} aria-label={name} data-testid={testId} />
  );
}

/** One value of a column: from the field's options, a number, or text. */
function ValueInput({ field, value, onChange, ariaLabel, testId }: { field: FormField | undefined; value: unknown; onChange: (v: unknown) => void; ariaLabel: string; testId?: string }) {
  const { lang } = useLang();
  if (field?.options)
    return (
      <Select
        size="small"
        style={{ minWidth: 120 }}
        value={value as string | undefined}
        onChange={onChange}
        options={field.options.map((o) => ({ value: o.value, label: label(o.label, lang, o.value) }))}
        aria-label={ariaLabel}
        data-testid={testId}
      />
    );
  if (field && ["number", "integer", "money"].includes(field.type))
    return <InputNumber size="small" value={typeof value === "number" ? value : null} onChange={(v) => onChange(v ?? null)} aria-label={ariaLabel} data-testid={testId} />;
  return <Input size="small" style={{ width: 120 }} value={typeof value === "string" ? value : value === undefined || value === null ? "" : String(value)} onChange={(e) => onChange(e.target.value)} aria-label={ariaLabel} data-testid={testId} />;
}

/** A condition cell: its operator and value(s). */
function CellEditor({ cell, field, onChange, testId }: { cell: Cell; field: FormField | undefined; onChange: (c: Cell) => void; testId: string }) {
  const { t, lang } = useLang();
  const name = field ? label(field.label, lang, field.key) : "";
  return (
    <Space direction="vertical" size={6} style={{ minWidth: 240 }}>
      <Select<CellOp>
        size="small"
        style={{ width: "100%" }}
        value={cell.op}
        onChange={(op) => onChange(switchCell(cell, op))}
        options={CELL_OPS.map((op) => ({ value: op, label: t(`design.table.op.${op}`) }))}
        aria-label={t("design.table.op")}
        data-testid={`${testId}-op`}
      />
      {["eq", "<", "<=", ">", ">="].includes(cell.op) && <ValueInput field={field} value={cell.value} onChange={(value) => onChange({ ...cell, value })} ariaLabel={name} testId={`${testId}-value`} />}
      {cell.op === "in" &&
        (field?.options ? (
          <Select
            size="small"
            mode="multiple"
            style={{ width: "100%" }}
            value={(cell.value as string[]) ?? []}
            onChange={(value: string[]) => onChange({ ...cell, value })}
            options={field.options.map((o) => ({ value: o.value, label: label(o.label, lang, o.value) }))}
            aria-label={name}
            data-testid={`${testId}-values`}
          />
        ) : (
          <Select size="small" mode="tags" style={{ width: "100%" }} value={((cell.value as unknown[]) ?? []).map(String)} onChange={(value: string[]) => onChange({ ...cell, value })} aria-label={name} data-testid={`${testId}-values`} />
        ))}
      {cell.op === "between" && (
        <Space>
          <ValueInput field={field} value={(cell.value as unknown[])?.[0]} onChange={(low) => onChange({ ...cell, value: [low, (cell.value as unknown[])?.[1]] })} ariaLabel={t("design.table.low")} />
          <Typography.Text>~</Typography.Text>
          <ValueInput field={field} value={(cell.value as unknown[])?.[1]} onChange={(high) => onChange({ ...cell, value: [(cell.value as unknown[])?.[0], high] })} ariaLabel={t("design.table.high")} />
        </Space>
      )}
      {cell.op === "not" && (
        <div style={{ paddingLeft: 12, borderLeft: "2px solid #f0f0f0" }}>
          <CellEditor cell={cell.value as Cell} field={field} onChange={(inner) => onChange({ op: "not", value: inner })} testId={`${testId}-not`} />
        </div>
      )}
    </Space>
  );
}

export function DecisionTableEditor({ app, body, setBody, problems, warnings = [] }: DesignerProps) {
  const { t, lang } = useLang();
  const table = body as unknown as DecisionTableBody;
  const form = typeof table.form === "string" ? table.form : undefined;
  const formFields = useFlowForm(app, form);
  const fields = useMemo(() => formFields.data ?? [], [formFields.data]);
  const overview = useOverview(app);
  const [open, setOpen] = useState<string | null>(null);
  const [newOutput, setNewOutput] = useState("");
  const write = (next: DecisionTableBody) => setBody(next as unknown as Body);
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  // rows are named by their place (ids are 0-based indexes), not by dnd-kit's English and ids
  const row = (id: UniqueIdentifier) => Number(id) + 1;
  const announcements: Announcements = {
    onDragStart: ({ active }) => t("design.table.drag.start", { n: row(active.id) }),
    onDragOver: ({ active, over }) => (over ? t("design.table.drag.over", { n: row(active.id), target: row(over.id) }) : undefined),
    onDragEnd: ({ active, over }) =>
      over ? t("design.table.drag.end", { n: row(active.id), target: row(over.id) }) : t("design.table.drag.cancel", { n: row(active.id) }),
    onDragCancel: ({ active }) => t("design.table.drag.cancel", { n: row(active.id) }),
  };
  /** A row dragged onto another's place: the rows between shift (order matters to a first-hit table). */
  const onRowDrop = ({ active, over }: DragEndEvent) => {
    if (over && active.id !== over.id) write(moveRow(table, Number(active.id), Number(over.id)));
  };
  const fieldOf = (key: string) => fields.find((f) => f.key === key);
  const columnName = (key: string) => label(fieldOf(key)?.label, lang, key);
  const valueName = (key: string, value: unknown) => {
    const option = fieldOf(key)?.options?.find((o) => o.value === value);
    return option ? label(option.label, lang, String(value)) : typeof value === "string" ? value : JSON.stringify(value);
  };
  const problemAt = (path: string) => problems.filter((p: Problem) => p.path === path || p.path.startsWith(`${path}/`));
  /** Problems of a row as a whole (a UNIQUE table's rows that overlap), marked on its number. */
  const rowProblems = (index: number) => problems.filter((p: Problem) => p.path === `/rules/${index}`);
  const gap = warnings.find((w) => w.code === "decision.gap") as (Problem & { gaps?: Record<string, unknown>[]; count?: number }) | undefined;
  const results = testResults(table, problems);
  const unused = fields.filter((f) => f.type !== "sub_table" && !table.inputs.some((c) => c.key === f.key));

  const conditionColumns: ColumnsType<Row & { index: number }> = table.inputs.map((column, c) => ({
    key: `in-${column.key}`,
    title: (
      <Space size={4}>
        <span>{columnName(column.key)}</span>
        <Button size="small" type="text" icon={<DeleteOutlined />} aria-label={t("design.table.remove_input", { name: columnName(column.key) })} onClick={() => write(removeColumn(table, "inputs", c))} />
      </Space>
    ),
    render: (_: unknown, row) => {
      const id = `${row.index}-${c}`;
      const raw = row.when[c];
      const wrong = problemAt(`/rules/${row.index}/when/${c}`);
      return (
        <Popover
          trigger="click"
          open={open === id}
          onOpenChange={(next) => setOpen(next ? id : null)}
          content={<CellEditor cell={cellOf(raw)} field={fieldOf(column.key)} onChange={(cell) => write(setCell(table, row.index, "when", c, rawOf(cell)))} testId={`table-cell-${id}`} />}
        >
          <Tooltip title={wrong.map((p) => p.message).join("；") || undefined}>
            <Button
              size="small"
              type="text"
              style={{ color: wrong.length ? "#a8071a" : raw === "-" ? "#595959" : "#262626", background: wrong.length ? "#fff1f0" : "#fafafa", minWidth: 40, justifyContent: "flex-start" }}
              aria-label={`${columnName(column.key)}：${cellText(raw, lang as Lang, (v) => valueName(column.key, v))}`}
              data-testid={`table-cell-${id}`}
            >
              {cellText(raw, lang as Lang, (v) => valueName(column.key, v))}
            </Button>
          </Tooltip>
        </Popover>
      );
    },
  }));
  const outputColumns: ColumnsType<Row & { index: number }> = table.outputs.map((column, c) => ({
    key: `out-${column.key}`,
    title: (
      <Space size={4}>
        <Typography.Text strong style={{ color: "#003eb3" }}>
          → {label(column.label, lang, column.key)}
        </Typography.Text>
        {table.outputs.length > 1 && <Button size="small" type="text" icon={<DeleteOutlined />} aria-label={t("design.table.remove_output", { name: column.key })} onClick={() => write(removeColumn(table, "outputs", c))} />}
      </Space>
    ),
    render: (_: unknown, row) => (
      <Input
        size="small"
        style={{ width: 140 }}
        value={typeof row.then[c] === "string" ? (row.then[c] as string) : JSON.stringify(row.then[c])}
        status={problemAt(`/rules/${row.index}/then/${c}`).length ? "error" : undefined}
        onChange={(e) => write(setCell(table, row.index, "then", c, e.target.value))}
        aria-label={`${t("design.table.row", { n: row.index + 1 })} → ${column.key}`}
        data-testid={`table-out-${row.index}-${c}`}
      />
    ),
  }));

  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }} data-testid="table-designer">
      <Card size="small" title={t("design.table.basics")}>
        <Space wrap size="large" align="start">
          <div style={{ minWidth: 280 }}>
            <Typography.Text type="secondary">{t("design.rule.name")}</Typography.Text>
            <TextI18n value={table.label} onChange={(next) => next && write({ ...table, label: next as DecisionTableBody["label"] })} testId="table-label" required />
          </div>
          <Space direction="vertical" size={2}>
            <Typography.Text type="secondary">{t("design.rule.form")}</Typography.Text>
            <Select
              style={{ width: 220 }}
              value={form}
              onChange={(next: string) => write({ ...table, form: next })}
              options={(overview.data ?? []).filter((d) => d.kind === "form").map((d) => ({ value: d.key, label: `${label(d.name, lang, d.key)} (${d.key})` }))}
              aria-label={t("design.rule.form")}
              data-testid="table-form"
            />
          </Space>
          <Space direction="vertical" size={2}>
            <Typography.Text type="secondary">{t("design.table.hit_policy")}</Typography.Text>
            <Select
              style={{ width: 240 }}
              value={table.hit_policy ?? "UNIQUE"}
              onChange={(policy: string) => write({ ...table, hit_policy: policy, aggregation: policy === "COLLECT" ? table.aggregation : undefined })}
              options={HIT_POLICIES.map((p) => ({ value: p, label: t(`design.table.policy.${p.replace(" ", "_")}`) }))}
              aria-label={t("design.table.hit_policy")}
              data-testid="table-hit-policy"
            />
          </Space>
        </Space>
      </Card>
      {gap && (
        <Alert
          type="warning"
          showIcon
          data-testid="table-gaps"
          message={t("design.table.gaps", { n: gap.count ?? gap.gaps?.length ?? 0 })}
          description={
            <ul style={{ margin: 0, paddingLeft: 18 }}>
              {(gap.gaps ?? []).slice(0, 5).map((g, i) => (
                <li key={i}>{gapText(g, lang as Lang, columnName, valueName)}</li>
              ))}
            </ul>
          }
          action={
            <Button size="small" onClick={() => write({ ...table, rules: [...table.rules, blankRow(table)] })} data-testid="table-add-catch-all">
              {t("design.table.catch_all")}
            </Button>
          }
        />
      )}
      <Card
        size="small"
        title={t("design.table.rows")}
        extra={
          <Space wrap>
            <Select
              size="small"
              style={{ width: 180 }}
              value={null}
              placeholder={<span style={{ color: "#595959" }}>{t("design.table.add_input")}</span>}
              showSearch
              optionFilterProp="label"
              options={unused.map((f) => ({ value: f.key, label: label(f.label, lang, f.key) }))}
              onChange={(key: string) => write(addColumn(table, "inputs", { key }))}
              aria-label={t("design.table.add_input")}
              data-testid="table-add-input"
            />
            <Space.Compact size="small">
              <Input value={newOutput} onChange={(e) => setNewOutput(e.target.value.replace(/[^a-z0-9_]/g, ""))} placeholder={t("design.table.output_key")} aria-label={t("design.table.output_key")} style={{ width: 120 }} />
              <Button
                disabled={!newOutput || table.outputs.some((o) => o.key === newOutput)}
                onClick={() => {
                  write(addColumn(table, "outputs", { key: newOutput }));
                  setNewOutput("");
                }}
              >
                {t("design.table.add_output")}
              </Button>
            </Space.Compact>
          </Space>
        }
      >
        {/* wide tables scroll in their card (antd's own scroll adds a hidden measuring row that
            holds focusable cells) */}
        <div style={{ overflowX: "auto" }}>
        <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onRowDrop} accessibility={{ announcements }}>
        <SortableContext items={table.rules.map((_, index) => String(index))} strategy={verticalListSortingStrategy}>
        <Table<Row & { index: number }>
          size="small"
          rowKey="index"
          pagination={false}
          components={{ body: { row: SortableRow } }}
          dataSource={table.rules.map((r, index) => ({ ...r, index }))}
          data-testid="table-rows"
          columns={[
            {
              key: "n",
              title: "#",
              width: 140,
              render: (_: unknown, row) => (
                <Space size={0}>
                  <DragHandle label={t("design.table.drag", { n: row.index + 1 })} testId={`table-drag-${row.index}`} />
                  <Typography.Text style={{ width: 24, display: "inline-block" }}>{row.index + 1}</Typography.Text>
                  {rowProblems(row.index).length > 0 && (
                    <Tooltip title={rowProblems(row.index).map((p) => p.message).join("；")}>
                      <WarningFilled style={{ color: "#cf1322" }} aria-label={rowProblems(row.index).map((p) => p.message).join("；")} data-testid={`table-row-problem-${row.index}`} />
                    </Tooltip>
                  )}
                  <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={row.index === 0} onClick={() => write(moveRow(table, row.index, row.index - 1))} aria-label={t("design.table.up", { n: row.index + 1 })} />
                  <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={row.index === table.rules.length - 1} onClick={() => write(moveRow(table, row.index, row.index + 1))} aria-label={t("design.table.down", { n: row.index + 1 })} />
                </Space>
              ),
            },
            ...conditionColumns,
            ...outputColumns,
            {
              key: "remove",
              width: 48,
              render: (_: unknown, row) => (
                <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => write({ ...table, rules: table.rules.filter((_, i) => i !== row.index) })} aria-label={t("design.table.remove_row", { n: row.index + 1 })} data-testid={`table-remove-${row.index}`} />
              ),
            },
          ]}
        />
        </SortableContext>
        </DndContext>
        </div>
        <Button size="small" icon={<PlusOutlined />} style={{ marginTop: 8 }} onClick={() => write({ ...table, rules: [...table.rules, blankRow(table)] })} data-testid="table-add-row">
          {t("design.table.add_row")}
        </Button>
      </Card>
      <Card size="small" title={t("design.table.tests")} data-testid="table-tests">
        <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
          {t("design.table.tests.help")}
        </Typography.Paragraph>
        <div style={{ overflowX: "auto" }}>
        <Table<TestCase & { index: number }>
          size="small"
          rowKey="index"
          pagination={false}
          dataSource={(table.tests ?? []).map((test, index) => ({ ...test, index }))}
          columns={[
            ...table.inputs.map((column) => ({
              key: `in-${column.key}`,
              title: columnName(column.key),
              render: (_: unknown, test: TestCase & { index: number }) => (
                <ValueInput
                  field={fieldOf(column.key)}
                  value={test.input[column.key]}
                  onChange={(value) => write({ ...table, tests: (table.tests ?? []).map((x, i) => (i === test.index ? { ...x, input: { ...x.input, [column.key]: value } } : x)) })}
                  ariaLabel={`${t("design.table.test", { n: test.index + 1 })} ${columnName(column.key)}`}
                />
              ),
            })),
            ...table.outputs.map((column) => ({
              key: `out-${column.key}`,
              title: `${t("design.table.expect")} ${label(column.label, lang, column.key)}`,
              render: (_: unknown, test: TestCase & { index: number }) => {
                const expected = (test.expect as Record<string, unknown> | null) ?? {};
                return (
                  <Input
                    size="small"
                    style={{ width: 140 }}
                    value={typeof expected[column.key] === "string" ? (expected[column.key] as string) : ""}
                    onChange={(e) => write({ ...table, tests: (table.tests ?? []).map((x, i) => (i === test.index ? { ...x, expect: { ...((x.expect as Record<string, unknown>) ?? {}), [column.key]: e.target.value } } : x)) })}
                    aria-label={`${t("design.table.test", { n: test.index + 1 })} ${t("design.table.expect")} ${column.key}`}
                  />
                );
              },
            })),
            {
              key: "result",
              title: t("design.table.result"),
              render: (_: unknown, test: TestCase & { index: number }) => {
                const result = results[test.index];
                return result?.passed ? (
                  <Typography.Text style={{ color: "#135200" }} data-testid={`table-test-${test.index}`} data-passed="true">
                    <CheckCircleFilled /> {t("design.table.passed")}
                  </Typography.Text>
                ) : (
                  <Tooltip title={result?.message}>
                    <Typography.Text type="danger" data-testid={`table-test-${test.index}`} data-passed="false">
                      <CloseCircleFilled /> {t("design.table.failed")}
                    </Typography.Text>
                  </Tooltip>
                );
              },
            },
            {
              key: "remove",
              width: 48,
              render: (_: unknown, test: TestCase & { index: number }) => (
                <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => write({ ...table, tests: (table.tests ?? []).filter((_, i) => i !== test.index) })} aria-label={t("design.table.remove_test", { n: test.index + 1 })} />
              ),
            },
          ]}
        />
        </div>
        <Button size="small" icon={<PlusOutlined />} style={{ marginTop: 8 }} onClick={() => write({ ...table, tests: [...(table.tests ?? []), { input: {}, expect: {} }] })} data-testid="table-add-test">
          {t("design.table.add_test")}
        </Button>
      </Card>
    </Space>
  );
}
