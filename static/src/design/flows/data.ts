// What the flow designer reads besides the flow: the fields of its form (for conditions, the field
// permissions matrix and assignee fields), the app's other flows (sub-processes), and the
// directory (users, groups, roles) assignees are picked from.
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { client, data } from "../../client";
import type { ConditionField } from "../conditions/logic";
import type { Decision, Simulation } from "./model";

export interface FormField {
  key: string;
  type: string;
  label: { "zh-CN": string; en?: string };
  options?: { value: string; label?: { "zh-CN": string; en?: string } }[];
  fields?: FormField[];
  read_only?: boolean;
  [property: string]: unknown;
}

interface FormBody {
  label?: unknown;
  fields?: FormField[];
  title_field?: string;
}

function formQuery(app: string, form: string | undefined) {
  return {
    queryKey: ["design", "flow-form", app, form],
    queryFn: async (): Promise<FormBody> => {
      const found = data(await client.GET("/api/v1/apps/{app}/{kinds}/{key}", { params: { path: { app, kinds: "forms", key: form ?? "" } } }));
      return found.body as FormBody;
    },
    enabled: Boolean(form),
  };
}

/** Another form's draft: its label and fields (what a reference to it can show). */
export function useFormBody(app: string, form: string | undefined) {
  return useQuery(formQuery(app, form));
}

/** The flow's form as its draft holds it (the designer of that form may be changing it too). */
export function useFlowForm(app: string, form: string | undefined) {
  return useQuery({ ...formQuery(app, form), select: (body: FormBody) => (Array.isArray(body.fields) ? body.fields : []) });
}

export interface RecordChoice {
  id: number;
  title: string;
}

/** The newest records of the flow's form, by number and title, to simulate the flow on. */
export function useRecordChoices(app: string, form: string | undefined) {
  const title = useQuery({
    ...formQuery(app, form),
    // the form's title field, else its first text field: what people call a record by
    select: (body: FormBody) => body.title_field ?? body.fields?.find((f) => f.key === "title")?.key ?? body.fields?.find((f) => f.type === "text")?.key ?? null,
  });
  return useQuery({
    queryKey: ["design", "flow-records", app, form, title.data],
    queryFn: async (): Promise<RecordChoice[]> => {
      const page = data(await client.GET("/api/v1/apps/{app}/records/{form}", { params: { path: { app, form: form ?? "" }, query: { limit: 100 } } }));
      return page.items.map((r) => {
        const held = title.data ? r.data[title.data] : undefined;
        return { id: r.id, title: typeof held === "string" || typeof held === "number" ? String(held) : "" };
      });
    },
    enabled: Boolean(form) && title.isSuccess,
  });
}

/** Plays the flow on a record (or sample values) with decisions: the engine's answer. */
export async function simulateFlow(app: string, key: string, request: SimulationRequest): Promise<Simulation> {
  const answer = data(
    await client.POST("/api/v1/apps/{app}/flows/{key}/simulate", {
      params: { path: { app, key } },
      body: request as never,
    }),
  );
  return answer as unknown as Simulation;
}

export interface SimulationRequest {
  body: Record<string, unknown>;
  record?: number | null;
  values?: Record<string, unknown>;
  decisions: Decision[];
}

/** Form fields as the condition builder takes them (a sub-table's columns for conditions over rows). */
export function conditionFields(fields: FormField[]): ConditionField[] {
  return fields.map((f) => ({
    key: f.key,
    label: f.label,
    type: f.type,
    ...(f.options ? { options: f.options } : {}),
    ...(f.type === "sub_table" && f.fields ? { columns: conditionFields(f.fields) } : {}),
  }));
}

export interface Person {
  id: number;
  username: string;
  display_name: string;
}

export interface Named {
  id: number;
  key: string;
  name: string;
}

interface Directory {
  users: Person[];
  groups: Named[];
  roles: Named[];
}

/** Users, groups and roles to choose assignees from: the directory of the app being designed
 * (its designers may list it; the administrators' directory pages are theirs alone). */
export function useDirectory() {
  const { app = "" } = useParams();
  const directory = useQuery({
    queryKey: ["design", "directory", app],
    queryFn: async (): Promise<Directory> => data(await client.GET("/api/v1/apps/{app}/directory", { params: { path: { app } } })) as unknown as Directory,
    enabled: Boolean(app),
    retry: false,
  });
  const part = <K extends keyof Directory>(key: K) => ({ ...directory, data: directory.data?.[key] });
  return { users: part("users"), groups: part("groups"), roles: part("roles") };
}
