// What the report builder and the KPI editor read besides the definition: the fields a dataset
// may name — the form's own, its sub-tables' columns as ``table.field``, the fields of the forms
// it references as ``reference.field`` — and the app's published KPIs.
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { client, data } from "../../client";
import { useDebounced } from "../../debounce";
import { label, useOverview } from "../data";
import { useFlowForm, type FormField } from "../flows/data";
import { SYSTEM_FIELDS, type Field } from "./model";

const joined = (a: FormField["label"], b: FormField["label"]) => ({ "zh-CN": `${a["zh-CN"]} › ${b["zh-CN"]}`, en: `${a.en ?? a["zh-CN"]} › ${b.en ?? b["zh-CN"]}` });
const plain = (f: FormField, key = f.key, text = f.label): Field => ({ key, type: f.type, label: text, ...(f.options ? { options: f.options } : {}) });

export function useDatasetFields(app: string, form: string | undefined): { fields: Field[]; loading: boolean } {
  const main = useFlowForm(app, form);
  const own = main.data ?? [];
  const references = own.filter((f) => f.type === "reference" && typeof (f.reference as { form?: string } | undefined)?.form === "string");
  const targets = useQueries({
    queries: references.map((f) => ({
      queryKey: ["design", "flow-form", app, (f.reference as { form: string }).form],
      queryFn: async () => {
        const found = data(await client.GET("/api/v1/apps/{app}/{kinds}/{key}", { params: { path: { app, kinds: "forms", key: (f.reference as { form: string }).form } } }));
        return found.body as { fields?: FormField[] };
      },
      staleTime: 30_000,
    })),
  });
  const fields: Field[] = [];
  for (const f of own) {
    if (f.type === "sub_table") for (const column of f.fields ?? []) fields.push(plain(column, `${f.key}.${column.key}`, joined(f.label, column.label)));
    else fields.push(plain(f));
  }
  references.forEach((f, i) => {
    for (const column of targets[i]?.data?.fields ?? []) if (column.type !== "sub_table") fields.push(plain(column, `${f.key}.${column.key}`, joined(f.label, column.label)));
  });
  return { fields: [...fields, ...SYSTEM_FIELDS], loading: main.isLoading };
}

/** The app's KPIs (name by key) for a dataset's KPI measures. */
export function useKpis(app: string, lang: string) {
  const overview = useOverview(app);
  return (overview.data ?? []).filter((d) => d.kind === "kpi").map((d) => ({ key: d.key, name: label(d.name, lang, d.key) }));
}

/** A draft KPI's card over ``period``, or a draft report's rows, from the server's preview:
 * re-run when the (settled) body changes, the last answer kept while the next one comes. */
export function usePreview(app: string, kind: "kpis" | "reports", key: string, body: unknown, period: string | undefined, enabled: boolean) {
  const settled = useDebounced(body);
  return useQuery({
    queryKey: ["design", "preview", app, kind, key, settled, period],
    queryFn: async (): Promise<Record<string, unknown>> => {
      const request = { params: { path: { app, key } }, body: { body: settled as Record<string, unknown>, ...(period ? { period } : {}) } };
      return kind === "kpis"
        ? (data(await client.POST("/api/v1/apps/{app}/kpis/{key}/preview", request)) as unknown as Record<string, unknown>)
        : (data(await client.POST("/api/v1/apps/{app}/reports/{key}/preview", request)) as unknown as Record<string, unknown>);
    },
    enabled,
    retry: false,
    placeholderData: keepPreviousData,
  });
}
