// A form's records: columns from the form, filters built from field types, sort, keyset pages.
import { DownloadOutlined, PlusOutlined, UploadOutlined } from "@ant-design/icons";
import { useInfiniteQuery, useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Checkbox, DatePicker, Empty, Form, Input, Select, Space, Table, Tag, Tooltip, Typography } from "antd";
import dayjs from "dayjs";
import type { SorterResult } from "antd/es/table/interface";
import { lazy, Suspense, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, problemText, withQuery, type FieldInfo, type RecordItem, type RecordPage } from "../api";
import { referenceTitles, show, titleIn, useFormSchema, usePeopleNames } from "../forms";
import { Failure } from "../Failure";
import { useLang } from "../i18n";
import { usePageTitle } from "../title";
import { useSession } from "../session";

/** The import dialog (its steps and tables): loaded when it opens. */
const ImportRecords = lazy(() => import("./ImportRecords"));

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
  usePageTitle(schema.data?.label);
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [sort, setSort] = useState("-_id");
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
  const fields = schema.data?.fields ?? [];
  // the title and serial first, then the indexed fields (what people sort and filter by), then the rest
  const titleKey = schema.data?.title_field;
  const rank = (f: FieldInfo) => (f.type === "serial" ? 0 : f.key === titleKey ? 1 : f.indexed ? 2 : 3);
  const shown = fields
    .filter((f) => LISTED.has(f.type))
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
    .map(({ f }) => f)
    .slice(0, 10);
  const filterable = fields
    .filter((f) => f.options || ["date", "datetime", "text", "serial"].includes(f.type))
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
    .map(({ f }) => f)
    .slice(0, 5);
  const rows = records.data?.pages.flatMap((p) => p.items) ?? [];
  const total = records.data?.pages[0]?.total;
  const personal = shown.filter((f) => f.type === "user" || f.type === "group");
  const names = usePeopleNames(app, rows.flatMap((r) => personal.map((f) => r.data[f.key] as number | null)));
  const nameOf = (field: FieldInfo, value: unknown): string =>
    typeof value !== "number" ? show(field, value) : field.type === "user" ? names.user(value) : names.group(value);
  // reference columns show their records' display field: one request per referenced form
  const referenced = shown.filter((f) => f.type === "reference" && f.reference?.display);
  const titles = useQueries({
    queries: referenced.map((f) =>
      referenceTitles(
        app,
        f.reference!.form,
        f.reference!.display,
        rows.map((r) => r.data[f.key]).filter((v): v is number => typeof v === "number"),
      ),
    ),
  });
  const titleOf = (field: FieldInfo, value: unknown): string => {
    const index = referenced.indexOf(field);
    if (typeof value !== "number" || index < 0) return show(field, value);
    return titleIn(titles[index]?.data, field.reference!.display, value);
  };
  const exportUrl = (format: string) =>
    withQuery(`/api/v1/apps/${app}/records/${form}/export`, { ...filters, sort, lang, format });
  const [viewName, setViewName] = useState("");
  const [importing, setImporting] = useState(false);
  const queries = useQueryClient();
  if (schema.isError) return <Failure error={schema.error} what={t("failure.form")} />;
  return (
    <Card
      title={schema.data?.label ?? form}
      extra={
        schema.data?.can.create && (
          <Space>
            <Button icon={<UploadOutlined />} onClick={() => setImporting(true)} data-testid="import-records">
              {t("records.import")}
            </Button>
            <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate(`/apps/${app}/records/${form}/new`)} data-testid="new-record">
              {t("records.new")}
            </Button>
          </Space>
        )
      }
    >
      {importing && schema.data && (
        <Suspense fallback={null}>
          <ImportRecords
            app={app}
            schema={schema.data}
            open={importing}
            onClose={(imported) => {
              setImporting(false);
              if (imported) void queries.invalidateQueries({ queryKey: ["records", app, form] });
            }}
          />
        </Suspense>
      )}
      <Form
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
          setFilters(next);
        }}
        onReset={() => setFilters({})}
      >
        {filterable.map((field) => (
          <Form.Item key={field.key} name={field.key} label={field.label}>
            {field.options ? (
              <Select mode="multiple" allowClear style={{ minWidth: 160 }} options={field.options} />
            ) : field.type === "date" || field.type === "datetime" ? (
              <DatePicker.RangePicker />
            ) : (
              <Input allowClear />
            )}
          </Form.Item>
        ))}
        <Space wrap>
          <Button htmlType="submit" data-testid="apply-filters">{t("records.filter")}</Button>
          <Button htmlType="reset" data-testid="reset-filters">{t("records.reset")}</Button>
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
              onClick={() => {
                setFilters(v.filters);
                setSort(v.sort || "-_id");
                filterForm.resetFields();
                filterForm.setFieldsValue(formValues(filterable, v.filters));
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
              onClick={() => {
                filterForm.resetFields();
                setFilters({});
                setSort("-_id");
              }}
              data-testid="list-reset"
            >
              {t("records.reset")}
            </Button>
          }
          data-testid="list-error"
        />
      )}
      <Table<RecordItem>
        rowKey="id"
        size="middle"
        scroll={{ x: true }}
        loading={records.isLoading || schema.isLoading}
        dataSource={rows}
        pagination={false}
        locale={{ emptyText: <Empty description={t("records.empty")} /> }}
        onChange={(_p, _f, sorter) => {
          const s = sorter as SorterResult<RecordItem>;
          const key = s.columnKey as string | undefined;
          setSort(key && s.order ? `${s.order === "descend" ? "-" : ""}${key}` : "-_id");
        }}
        columns={[
          {
            key: "_id",
            title: "#",
            dataIndex: "id",
            sorter: true,
            render: (id: number) => <Link to={`/apps/${app}/records/${form}/${id}`}>{id}</Link>,
          },
          ...shown.map((field) => ({
            key: field.key,
            title: field.label,
            sorter: field.indexed,
            render: (_: unknown, row: RecordItem) => (
              <Typography.Text ellipsis style={{ maxWidth: 240 }}>
                {field.type === "user" || field.type === "group"
                  ? nameOf(field, row.data[field.key])
                  : field.type === "reference"
                    ? titleOf(field, row.data[field.key])
                    : show(field, row.data[field.key])}
              </Typography.Text>
            ),
          })),
        ]}
      />
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
