// A form's records: columns from the form, filters built from field types, sort, keyset pages.
import { DeleteOutlined, DownloadOutlined, DownOutlined, PlusOutlined, QuestionCircleOutlined, SettingOutlined, UpOutlined, UploadOutlined } from "@ant-design/icons";
import { useInfiniteQuery, useMutation, useQueries, useQuery, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { Alert, App, Button, Card, Checkbox, Empty, Form, Input, Popconfirm, Popover, Select, Space, Table, Tag, Tooltip, Typography } from "antd";
import dayjs from "dayjs";
import type { SorterResult } from "antd/es/table/interface";
import { createContext, lazy, memo, startTransition, Suspense, useCallback, useContext, useDeferredValue, useEffect, useMemo, useState, type ComponentProps, type Key, type MouseEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { useAddressState } from "../addressState";
import { api, problemText, withQuery, type FieldInfo, type RecordItem, type RecordPage } from "../api";
import type { ColumnsType } from "antd/es/table";
import { cellText, optionIndex, show, titleIn } from "../values/format";
import { referenceTitles, useFormSchema, usePeopleNames } from "../values/queries";
import { Failure } from "../Failure";
import { useLang } from "../i18n";
import { usePageTitle } from "../title";
import { useSession } from "../session";

/** The date range of a date filter: the date picker (with its calendar) loads when a date filter
is shown, not with the list. */
const LazyRangePicker = lazy(() => import("antd/es/date-picker").then((m) => ({ default: m.default.RangePicker })));

/** The range picker as a form item's control (the item hands its value and onChange to it). */
function RangePicker(props: ComponentProps<typeof LazyRangePicker>) {
  return (
    <Suspense fallback={<Input disabled style={{ width: 240 }} />}>
      <LazyRangePicker {...props} />
    </Suspense>
  );
}

/** The import dialog (its steps and tables): loaded when it opens. */
const ImportRecords = lazy(() => import("./ImportRecords"));
const HelpFeedback = lazy(() => import("./HelpFeedback"));

/** Option columns as tags: the first options (the most urgent, the earliest states) in these. */
const TAG_COLORS = ["red", "orange", "gold", "blue", "green", "purple", "cyan", "magenta", "geekblue", "lime"];
/** Their text in the darkest shade of each, for contrast on the tints. */
const TAG_INK = ["#a8071a", "#ad4e00", "#874d00", "#003eb3", "#135200", "#22075e", "#00474f", "#780650", "#061178", "#254000"];
/** Their tints and borders (antd's colour palettes, shades 1 and 3). */
const TAG_TINT = ["#fff1f0", "#fff7e6", "#fffbe6", "#e6f4ff", "#f6ffed", "#f9f0ff", "#e6fffb", "#fff0f6", "#f0f5ff", "#fcffe6"];
const TAG_EDGE = ["#ffa39e", "#ffd591", "#ffe58f", "#91caff", "#b7eb8f", "#d3adf7", "#87e8de", "#ffadd2", "#adc6ff", "#eaff8f"];
/** Query parameters of the list that are not filters. */
const RESERVED = new Set(["sort"]);
/** Filters shown before 展开. */
const FOLDED = 3;

/** The rows drawn at once when a page of records arrives (about a screenful); the rest follow. */
const FIRST_ROWS = 10;
/** The rows the table starts from, before its first rows are drawn. */
const NO_ROWS: RecordItem[] = [];

/** Where a field goes among the columns and filters: the serial and the title first, then the
indexed fields (what people sort and filter by), then the rest. */
const rankOf = (f: FieldInfo, titleKey: string | null | undefined) => (f.type === "serial" ? 0 : f.key === titleKey ? 1 : f.indexed ? 2 : 3);

const LISTED = new Set(["text", "select", "radio", "number", "integer", "money", "date", "datetime", "serial", "checkbox", "email", "phone", "user", "group", "reference", "formula"]);

interface View {
  id: number;
  name: string;
  filters: Record<string, string>;
  sort: string;
  shared: boolean;
  mine: boolean;
}

/** The saved views of a form's list, kept on the server for the signed-in user. */
function useViews(app: string, form: string) {
  const queries = useQueryClient();
  const { message } = App.useApp();
  const key = ["views", app, form];
  const base = `/apps/${app}/records/${form}/views`;
  const views = useQuery({ queryKey: key, queryFn: () => api<View[]>(base) });
  const fail = (error: unknown) => message.error(problemText(error));
  const save = useMutation({
    mutationFn: (view: { name: string; filters: Record<string, string>; sort: string; shared: boolean }) =>
      api<View>(base, { body: view }),
    onSuccess: () => queries.invalidateQueries({ queryKey: key }),
    onError: fail,
  });
  const remove = useMutation({
    mutationFn: (id: number) => api<void>(`${base}/${id}`, { method: "DELETE" }),
    // gone from the list at once; back if the server refuses
    onMutate: async (id: number) => {
      await queries.cancelQueries({ queryKey: key });
      const before = queries.getQueryData<View[]>(key);
      queries.setQueryData<View[]>(key, (list) => (list ?? []).filter((v) => v.id !== id));
      return { before };
    },
    onError: (error, _id, context) => {
      queries.setQueryData(key, context?.before);
      fail(error);
    },
    onSettled: () => queries.invalidateQueries({ queryKey: key }),
  });
  return { views: views.data ?? [], save, remove };
}

/** The answers of the reference-title queries (one per reference column), the same array until
one of them changes: the columns that read them keep otherwise. */
const answers = (results: UseQueryResult<RecordPage>[]) => results.map((r) => r.data);

/** Truncated cell text (CSS, no measuring): the whole text is its title. */
const CLIP = { display: "inline-block", maxWidth: 240, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap", verticalAlign: "bottom" } as const;

/** An option's tag: antd's tag look (tint, border, dark text) drawn as a plain element, as light
as text to draw fifty rows of. */
const TAG = { display: "inline-block", padding: "0 7px", fontSize: 12, lineHeight: "20px", borderRadius: 4, border: "1px solid", whiteSpace: "nowrap" } as const;

/** How a cell's value reads (people's and referenced records' names as they arrive): only the
cells read it, so a name arriving draws those cells again, not the table. */
const CellText = createContext<(field: FieldInfo, value: unknown) => string>(show);

/** One cell of a field: an option as a coloured tag, anything else as text. */
const FieldCell = memo(function FieldCell({ field, value }: { field: FieldInfo; value: unknown }) {
  const text = useContext(CellText);
  const at = optionIndex(field, value);
  if (at >= 0) {
    const i = at % TAG_COLORS.length;
    return (
      <span style={{ ...TAG, color: TAG_INK[i], background: TAG_TINT[i], borderColor: TAG_EDGE[i] }} data-testid="option-tag">
        {field.options![at].label}
      </span>
    );
  }
  const shown = text(field, value);
  return (
    <span style={CLIP} title={shown.length > 20 ? shown : undefined}>
      {shown}
    </span>
  );
});

/** The filter form's values for a view's query parameters (the reverse of applying the form). */
function formValues(fields: FieldInfo[], filters: Record<string, string>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.options && filters[`${field.key}__in`]) values[field.key] = filters[`${field.key}__in`].split(",");
    else if (filters[`${field.key}__gte`] && filters[`${field.key}__lte`])
      values[field.key] = [dayjs(filters[`${field.key}__gte`]), dayjs(filters[`${field.key}__lte`])];
    else if (filters[`${field.key}__contains`]) values[field.key] = filters[`${field.key}__contains`];
  }
  return values;
}

export function RecordList() {
  const { app = "", form = "" } = useParams();
  const { t, lang } = useLang();
  const navigate = useNavigate();
  const schema = useFormSchema(app, form);
  // the page's filters, views and table are drawn for the form in a transition (in slices, not
  // in one long task): the card shows as loading until then
  const definition = useDeferredValue(schema.data);
  usePageTitle(schema.data?.label);
  // the filters, the search and the sort live in the address, so that Back returns to them
  const [params, setAddress] = useAddressState();
  const filters = Object.fromEntries([...params.entries()].filter(([k]) => !RESERVED.has(k)));
  const sort = params.get("sort") || "-_id";
  const apply = (next: { filters: Record<string, string>; sort: string }) => {
    const out = new URLSearchParams(Object.entries(next.filters).filter(([, v]) => v !== ""));
    if (next.sort !== "-_id") out.set("sort", next.sort);
    setAddress(out);
  };
  const setFilters = (next: Record<string, string>) => apply({ filters: next, sort });
  const setSort = (next: string) => apply({ filters, sort: next });
  const { message } = App.useApp();
  const [unfolded, setUnfolded] = useState(false);
  const [selected, setSelected] = useState<number[]>([]);
  const columnsKey = `tangram.columns.${app}.${form}`;
  const [chosenColumns, setChosenColumns] = useState<string[] | null>(() => {
    try {
      const kept = localStorage.getItem(columnsKey);
      return kept ? (JSON.parse(kept) as string[]) : null;
    } catch {
      return null;
    }
  });
  const views = useViews(app, form);
  const { me } = useSession();
  const [filterForm] = Form.useForm();
  const [shareView, setShareView] = useState(false);
  const records = useInfiniteQuery({
    queryKey: ["records", app, form, filters, sort],
    initialPageParam: "",
    queryFn: ({ pageParam }) =>
      api<RecordPage>(`/apps/${app}/records/${form}`, {
        query: { ...filters, sort, limit: 50, count: true, cursor: pageParam || undefined },
      }),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const fields = useMemo(() => definition?.fields ?? [], [definition]);
  const titleKey = definition?.title_field;
  const rank = (f: FieldInfo) => rankOf(f, titleKey);
  const listable = useMemo(
    () =>
      fields
        .filter((f) => LISTED.has(f.type))
        .map((f, i) => ({ f, i }))
        .sort((a, b) => rankOf(a.f, titleKey) - rankOf(b.f, titleKey) || a.i - b.i)
        .map(({ f }) => f),
    [fields, titleKey],
  );
  // the columns chosen in the column settings (kept in this browser), else the first ten
  const shown = useMemo(
    () => (chosenColumns ? listable.filter((f) => chosenColumns.includes(f.key)) : listable.slice(0, 10)),
    [listable, chosenColumns],
  );
  const chooseColumns = (keys: string[]) => {
    setChosenColumns(keys);
    localStorage.setItem(columnsKey, JSON.stringify(keys));
  };
  const filterable = fields
    .filter((f) => f.options || ["date", "datetime", "text", "serial"].includes(f.type))
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
    .map(({ f }) => f);
  // a filter in use is never folded away (a saved view or an address may set any)
  const activeBeyond = filterable
    .slice(FOLDED)
    .some((f) => Object.keys(filters).some((k) => k === f.key || k.startsWith(`${f.key}__`)));
  const folded = unfolded || activeBeyond ? filterable : filterable.slice(0, FOLDED);
  const rows = useMemo(() => records.data?.pages.flatMap((p) => p.items) ?? [], [records.data]);
  // the table draws new rows in a transition after the page has painted: in slices between which
  // the browser paints and answers input, not in one long task. Meanwhile it shows the rows it
  // has, or the first screenful of the new ones when it has fewer — also when the page itself is
  // drawn for the first time, which would otherwise draw all its rows in the same pass
  const [drawn, setDrawn] = useState(NO_ROWS);
  const table = drawn === rows || drawn.length >= FIRST_ROWS ? drawn : rows.slice(0, FIRST_ROWS);
  useEffect(() => {
    if (definition && drawn !== rows) startTransition(() => setDrawn(rows));
  }, [definition, drawn, rows]);
  const total = records.data?.pages[0]?.total;
  const personal = shown.filter((f) => f.type === "user" || f.type === "group");
  const names = usePeopleNames(app, rows.flatMap((r) => personal.map((f) => r.data[f.key] as number | null)));
  // reference columns show their records' display field: one request per referenced form
  const referenced = useMemo(() => shown.filter((f) => f.type === "reference" && f.reference?.display), [shown]);
  const titles = useQueries({
    queries: referenced.map((f) =>
      referenceTitles(
        app,
        f.reference!.form,
        f.reference!.display,
        rows.map((r) => r.data[f.key]).filter((v): v is number => typeof v === "number"),
      ),
    ),
    combine: answers,
  });
  // a cell's text, the same function until a name or a title arrives
  const text = useMemo(() => {
    const title = (field: FieldInfo, id: number): string => {
      const index = referenced.indexOf(field);
      return index < 0 ? show(field, id) : titleIn(titles[index], field.reference!.display, id);
    };
    return (field: FieldInfo, value: unknown) => cellText(field, value, { ...names, title });
  }, [names, titles, referenced]);
  const exportUrl = (format: string) =>
    withQuery(`/api/v1/apps/${app}/records/${form}/export`, { ...filters, sort, lang, format });
  const selectedExport = (format: string) =>
    withQuery(`/api/v1/apps/${app}/records/${form}/export`, { _id__in: selected.join(","), sort, lang, format });
  const removeSelected = async () => {
    const byId = new Map(rows.map((r) => [r.id, r]));
    let removed = 0;
    try {
      for (const id of selected) {
        const row = byId.get(id);
        if (!row) continue;
        await api(`/apps/${app}/records/${form}/${id}`, { method: "DELETE", query: { lock_version: row.lock_version } });
        removed += 1;
      }
      message.success(t("records.deleted", { n: removed }));
    } catch (error) {
      message.error(`${t("records.deleted", { n: removed })} ${problemText(error)}`);
    } finally {
      setSelected([]);
      await queries.invalidateQueries({ queryKey: ["records", app, form] });
    }
  };
  const rowSelection = useMemo(
    () => ({ selectedRowKeys: selected, onChange: (keys: Key[]) => setSelected(keys as number[]), columnWidth: 40 }),
    [selected],
  );
  const onRow = useCallback(
    (row: RecordItem) => ({
      // the whole row opens the record; its links, boxes and buttons keep their own click
      onClick: (event: MouseEvent<HTMLElement>) => {
        if ((event.target as HTMLElement).closest("a,button,input,label,.ant-checkbox-wrapper,.ant-table-selection-column")) return;
        navigate(`/apps/${app}/records/${form}/${row.id}`);
      },
      style: { cursor: "pointer", ...(row.overdue ? { background: "#fff1f0" } : {}) },
      "data-overdue": row.overdue ? "true" : undefined,
    }),
    [navigate, app, form],
  );
  const overdue = t("records.overdue");
  // the columns keep while the page's other state changes (a selection, a view's name typed):
  // the rows are not drawn again for those
  const columns = useMemo<ColumnsType<RecordItem>>(
    () => [
      {
        key: "_id",
        title: "#",
        dataIndex: "id",
        sorter: true,
        render: (id: number, row: RecordItem) => (
          <Space size={4}>
            <Link to={`/apps/${app}/records/${form}/${id}`}>{id}</Link>
            {row.overdue && (
              <Tag color="red" style={{ color: "#a8071a", marginInlineEnd: 0 }}>
                {overdue}
              </Tag>
            )}
          </Space>
        ),
      },
      ...shown.map((field) => ({
        key: field.key,
        title: field.label,
        sorter: field.indexed,
        render: (_: unknown, row: RecordItem) => <FieldCell field={field} value={row.data[field.key]} />,
      })),
    ],
    [shown, app, form, overdue],
  );
  const [viewName, setViewName] = useState("");
  const [importing, setImporting] = useState(false);
  const [feedback, setFeedback] = useState(false);
  const queries = useQueryClient();
  if (schema.isError) return <Failure error={schema.error} what={t("failure.form")} />;
  // nothing of the page before the form's fields are known: the query form would grow under
  // the pointer and move the views and buttons below it while people aim at them
  if (!definition) return <Card loading title={form} />;
  return (
    <Card
      title={definition?.label ?? form}
      extra={
        <Space>
          {definition.help_center && (
            <Button icon={<QuestionCircleOutlined />} onClick={() => setFeedback(true)} data-testid="help-feedback-open">
              {t("records.help_center")}
            </Button>
          )}
          {definition.can.create && (
            <>
              <Button icon={<UploadOutlined />} onClick={() => setImporting(true)} data-testid="import-records">
                {t("records.import")}
              </Button>
              <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate(`/apps/${app}/records/${form}/new`)} data-testid="new-record">
                {t("records.new")}
              </Button>
            </>
          )}
        </Space>
      }
    >
      {feedback && (
        <Suspense fallback={null}>
          <HelpFeedback app={app} form={form} open={feedback} onClose={() => setFeedback(false)} />
        </Suspense>
      )}
      {importing && definition && (
        <Suspense fallback={null}>
          <ImportRecords
            app={app}
            schema={definition}
            open={importing}
            onClose={(imported) => {
              setImporting(false);
              if (imported) void queries.invalidateQueries({ queryKey: ["records", app, form] });
            }}
          />
        </Suspense>
      )}
      <Space wrap style={{ marginBottom: 12, width: "100%", justifyContent: "space-between" }}>
        <Input.Search
          key={`search-${filters._q ?? ""}`}
          allowClear
          defaultValue={filters._q ?? ""}
          placeholder={t("records.search")}
          aria-label={t("records.search")}
          onSearch={(value) => {
            const next = { ...filters };
            if (value.trim()) next._q = value.trim();
            else delete next._q;
            setFilters(next);
          }}
          style={{ width: 280 }}
          data-testid="list-search"
        />
        <Popover
          trigger="click"
          placement="bottomRight"
          title={t("records.columns")}
          content={
            <Checkbox.Group
              style={{ display: "flex", flexDirection: "column", gap: 4, maxHeight: 320, overflowY: "auto" }}
              value={shown.map((f) => f.key)}
              onChange={(keys) => chooseColumns(keys as string[])}
              options={listable.map((f) => ({ value: f.key, label: f.label }))}
              data-testid="column-settings"
            />
          }
        >
          <Button icon={<SettingOutlined />} aria-label={t("records.columns")} data-testid="column-settings-open">
            {t("records.columns")}
          </Button>
        </Popover>
      </Space>
      <Form
        // the form shows what the address filters by: a view applied or Back draws it afresh
        key={JSON.stringify(filters)}
        form={filterForm}
        layout="inline"
        style={{ marginBottom: 16, rowGap: 8 }}
        onFinish={(values: Record<string, unknown>) => {
          const next: Record<string, string> = {};
          for (const field of filterable) {
            const value = values[field.key];
            if (value === undefined || value === null || value === "") continue;
            if (field.options) next[`${field.key}__in`] = (value as string[]).join(",");
            else if (field.type === "date" || field.type === "datetime") {
              const [from, to] = value as [{ format: (f: string) => string }, { format: (f: string) => string }];
              next[`${field.key}__gte`] = from.format("YYYY-MM-DD");
              next[`${field.key}__lte`] = to.format("YYYY-MM-DD") + (field.type === "datetime" ? "T23:59:59" : "");
            } else next[`${field.key}__contains`] = String(value);
          }
          if (filters._q) next._q = filters._q;
          setFilters(next);
        }}
        onReset={() => setFilters(filters._q ? { _q: filters._q } : {})}
        initialValues={formValues(filterable, filters)}
      >
        {folded.map((field) => (
          <Form.Item key={field.key} name={field.key} label={field.label}>
            {field.options ? (
              <Select mode="multiple" allowClear style={{ minWidth: 160 }} options={field.options} />
            ) : field.type === "date" || field.type === "datetime" ? (
              <RangePicker />
            ) : (
              <Input allowClear />
            )}
          </Form.Item>
        ))}
        <Space wrap>
          <Button htmlType="submit" data-testid="apply-filters">{t("records.filter")}</Button>
          <Button htmlType="reset" data-testid="reset-filters">{t("records.reset")}</Button>
          {filterable.length > FOLDED && !activeBeyond && (
            <Button type="link" icon={unfolded ? <UpOutlined /> : <DownOutlined />} onClick={() => setUnfolded(!unfolded)} data-testid="filters-unfold">
              {unfolded ? t("records.fold") : t("records.unfold", { n: filterable.length - FOLDED })}
            </Button>
          )}
          <Button icon={<DownloadOutlined />} href={exportUrl("csv")} data-testid="export-csv">CSV</Button>
          <Button icon={<DownloadOutlined />} href={exportUrl("xlsx")}>XLSX</Button>
        </Space>
      </Form>
      <Space wrap style={{ marginBottom: 16 }}>
        <Typography.Text type="secondary">{t("records.views")}:</Typography.Text>
        {views.views.map((v) => (
          <Tooltip key={v.id} title={v.shared ? t("records.view_shared") : undefined}>
            <Tag
              closable={v.mine || Boolean(me?.is_admin)}
              color={JSON.stringify(v.filters) === JSON.stringify(filters) && (v.sort || "-_id") === sort ? "blue" : undefined}
              // a button for keyboards too (Enter or Space applies the view)
              role="button"
              tabIndex={0}
              aria-pressed={JSON.stringify(v.filters) === JSON.stringify(filters) && (v.sort || "-_id") === sort}
              onKeyDown={(event) => {
                if (event.target !== event.currentTarget || (event.key !== "Enter" && event.key !== " ")) return;
                event.preventDefault();
                apply({ filters: v.filters, sort: v.sort || "-_id" });
              }}
              onClick={() => {
                apply({ filters: v.filters, sort: v.sort || "-_id" });
              }}
              onClose={(event) => {
                event.preventDefault();
                views.remove.mutate(v.id);
              }}
              style={{ cursor: "pointer" }}
              data-testid={`view-${v.name}`}
            >
              {v.shared ? "👥 " : ""}
              {v.name}
            </Tag>
          </Tooltip>
        ))}
        <Input
          size="small"
          style={{ width: 160 }}
          placeholder={t("records.view_name")}
          value={viewName}
          disabled={views.save.isPending}
          onChange={(e) => setViewName(e.target.value)}
          onPressEnter={() => {
            if (!viewName.trim()) return;
            views.save.mutate(
              { name: viewName.trim(), filters, sort: sort === "-_id" ? "" : sort, shared: shareView },
              { onSuccess: () => setViewName("") },
            );
          }}
          data-testid="view-name"
        />
        {me?.is_admin && (
          <Checkbox checked={shareView} onChange={(e) => setShareView(e.target.checked)}>
            {t("records.view_share")}
          </Checkbox>
        )}
      </Space>
      {records.isError && (
        <Alert
          type="error"
          showIcon
          style={{ marginBottom: 16 }}
          title={t("records.failed")}
          description={problemText(records.error)}
          action={
            <Button
              size="small"
              onClick={() => apply({ filters: {}, sort: "-_id" })}
              data-testid="list-reset"
            >
              {t("records.reset")}
            </Button>
          }
          data-testid="list-error"
        />
      )}
      {selected.length > 0 && (
        <Space wrap style={{ marginBottom: 12 }} data-testid="bulk-actions">
          <Typography.Text>{t("records.selected", { n: selected.length })}</Typography.Text>
          <Button size="small" icon={<DownloadOutlined />} href={selectedExport("csv")} data-testid="bulk-export">
            {t("records.export_selected")}
          </Button>
          <Button size="small" icon={<DownloadOutlined />} href={selectedExport("xlsx")}>
            XLSX
          </Button>
          {definition?.can.delete && (
            <Popconfirm
              title={t("records.delete_selected_confirm", { n: selected.length })}
              okText={t("common.ok")}
              cancelText={t("common.cancel")}
              okButtonProps={{ danger: true }}
              onConfirm={() => void removeSelected()}
            >
              <Button size="small" danger icon={<DeleteOutlined />} style={{ color: "#cf1322", borderColor: "#cf1322" }} data-testid="bulk-delete">
                {t("records.delete_selected")}
              </Button>
            </Popconfirm>
          )}
          <Button size="small" type="link" onClick={() => setSelected([])}>
            {t("records.clear_selection")}
          </Button>
        </Space>
      )}
      {/* the list scrolls sideways in its own region (antd's scroll.x adds a hidden measuring
          row holding the selection's focusable boxes, which screen readers must not reach) */}
      <CellText.Provider value={text}>
      <div style={{ overflowX: "auto" }} tabIndex={0} role="region" aria-label={definition?.label ?? form}>
        <Table<RecordItem>
          rowKey="id"
          size="middle"
          rowSelection={rowSelection}
          onRow={onRow}
          loading={records.isLoading || schema.isLoading}
          dataSource={table}
          pagination={false}
          locale={{ emptyText: <Empty description={t("records.empty")} /> }}
          onChange={(_p, _f, sorter) => {
            const s = sorter as SorterResult<RecordItem>;
            const key = s.columnKey as string | undefined;
            setSort(key && s.order ? `${s.order === "descend" ? "-" : ""}${key}` : "-_id");
          }}
          columns={columns}
        />
      </div>
      </CellText.Provider>
      <Space style={{ marginTop: 16 }}>
        {typeof total === "number" && <Typography.Text type="secondary">{t("records.total", { n: total })}</Typography.Text>}
        {records.hasNextPage && (
          <Button onClick={() => records.fetchNextPage()} loading={records.isFetchingNextPage}>
            {t("records.more")}
          </Button>
        )}
      </Space>
    </Card>
  );
}
