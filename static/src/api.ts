// The one way the web runtime talks to the server: JSON over /api/v1, problem details on errors.
import { completeLines, sortLines, type Ending } from "./ndjson";
import i18next from "i18next";

export interface FieldProblem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  status: number;
  code: string;
  errors: Record<string, string[]>;
  body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    super(String(body.detail ?? body.title ?? `HTTP ${status}`));
    this.status = status;
    this.code = String(body.code ?? "");
    this.errors = (body.errors as Record<string, string[]>) ?? {};
    this.body = body;
  }
}

/** The language the user reads the app in: the server answers problems in it. */
export function uiLanguage(): string {
  return i18next.language === "en" ? "en" : "zh-CN";
}

/** What went wrong, for people: the problem's detail and each field's messages by path. */
export function problemText(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const fields = Object.entries(error.errors).map(([path, messages]) => `${path}: ${[messages].flat().join("; ")}`);
  return fields.length ? `${error.message} ${fields.join("；")}` : error.message;
}

// kept for the tab (sessionStorage); absent outside a browser (the unit tests run in Node)
const store: Storage | undefined = typeof sessionStorage === "undefined" ? undefined : sessionStorage;
let csrf: string | null = store?.getItem("tangram.csrf") ?? null;

/** The session's CSRF token, which every unsafe request carries in ``X-CSRF-Token``. */
export function csrfToken(): string | null {
  return csrf;
}

export function setCsrf(token: string | null): void {
  csrf = token;
  if (token) store?.setItem("tangram.csrf", token);
  else store?.removeItem("tangram.csrf");
}

/** Who hears that the server no longer knows the session (a 401 from any call but the session's
 * own check and the sign-in): the session provider, which then asks the user to sign in again. */
let unauthenticated: (() => void) | null = null;

export function onUnauthenticated(handler: (() => void) | null): void {
  unauthenticated = handler;
}

/** Tell the session that a call came back 401 (``path`` names the call). */
export function noticeStatus(status: number, path: string): void {
  if (status === 401 && !/\/(me|auth\/login)(\?|$)/.test(path)) unauthenticated?.();
}

type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

export async function api<T>(
  path: string,
  options: { method?: string; body?: unknown; query?: Query; form?: FormData } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", "Accept-Language": uiLanguage() };
  const method = options.method ?? (options.body !== undefined || options.form ? "POST" : "GET");
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await fetch(withQuery(`/api/v1${path}`, options.query), {
    method,
    headers,
    body,
    credentials: "same-origin",
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : {};
  if (!response.ok) {
    noticeStatus(response.status, path);
    throw new ApiError(response.status, parsed);
  }
  return parsed as T;
}

/** A POST of a form through XMLHttpRequest (fetch reports no upload progress and no answer
 * read so far), signed in as the page is and in the user's language. */
function posting(path: string, accept: string): XMLHttpRequest {
  const request = new XMLHttpRequest();
  request.open("POST", `/api/v1${path}`);
  request.setRequestHeader("Accept", accept);
  request.setRequestHeader("Accept-Language", uiLanguage());
  if (csrf) request.setRequestHeader("X-CSRF-Token", csrf);
  request.withCredentials = true;
  return request;
}

/** The JSON an XMLHttpRequest answered (a body that is not JSON: its status as the detail). */
function answered(request: XMLHttpRequest): Record<string, unknown> {
  try {
    return request.responseText ? (JSON.parse(request.responseText) as Record<string, unknown>) : {};
  } catch {
    return { detail: `HTTP ${request.status}` };
  }
}

/** The problem an XMLHttpRequest answered, noticed as ``api`` notices it (a 401 signs out). */
function refused(request: XMLHttpRequest, path: string): ApiError {
  noticeStatus(request.status, path);
  return new ApiError(request.status, answered(request));
}

/** A multipart upload that reports its progress (fetch cannot): ``onProgress`` gets 0–100. */
export function upload<T>(path: string, form: FormData, onProgress: (percent: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = posting(path, "application/json");
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) resolve(answered(request) as T);
      else reject(refused(request, path));
    };
    request.onerror = () => reject(new Error("network error"));
    request.send(form);
  });
}

/** A multipart POST whose answer follows the work as it goes (`application/x-ndjson`): each step
 * goes to `onStep` as it arrives; the last line is the report (resolved) or a problem met on the
 * way (rejected as an ApiError). A refusal before the first step is an ordinary problem. */
export function uploadFollowed<T, S>(path: string, form: FormData, onStep: (step: S) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = posting(path, "application/x-ndjson, application/json");
    let offset = 0;
    let ending: Ending<T> = null;
    const read = () => {
      if (request.status !== 200) return;
      const found = completeLines(request.responseText, offset);
      offset = found.offset;
      ending = sortLines<T, S>(found.lines, onStep) ?? ending;
    };
    request.onprogress = read;
    request.onload = () => {
      if (request.status !== 200) {
        reject(refused(request, path));
        return;
      }
      try {
        read();
      } catch {
        reject(new Error("unreadable answer"));
        return;
      }
      const end = ending as Ending<T>;
      if (end && "report" in end) resolve(end.report);
      else if (end) reject(new ApiError(Number(end.problem.status) || 500, end.problem));
      else reject(new Error("the answer ended early"));
    };
    request.onerror = () => reject(new Error("network error"));
    request.send(form);
  });
}

// --- shapes the pages use --------------------------------------------------------------------

export interface Me {
  id: number;
  username: string;
  display_name: string;
  locale: string;
  is_admin: boolean;
  roles: string[];
  csrf_token: string | null;
  /** The apps whose definitions the user may change (every app for administrators). */
  design_apps?: string[];
}

export interface AppInfo {
  id: number;
  key: string;
  name: Record<string, string>;
  description: Record<string, string>;
  version: string;
}

export interface Navigation {
  app: { key: string; name: string; version: string; strings: Record<string, string> };
  forms: { key: string; label: string; can_create: boolean }[];
  dashboards: { key: string; label: string }[];
  flows: { key: string; label: string; form: string }[];
}

export interface FieldInfo {
  key: string;
  type: string;
  label: string;
  required: boolean;
  indexed: boolean;
  default?: unknown;
  options?: { value: string; label: string }[];
  reference?: { form: string; display: string | null };
  fields?: FieldInfo[];
}

export interface FormSchema {
  key: string;
  version: number;
  label: string;
  json_schema: Record<string, unknown>;
  ui_schema: Record<string, unknown>;
  conditions: Record<string, { visible_when?: unknown; required_when?: unknown; formula?: unknown }>;
  /** The server's validation messages by code (``{limit}`` placeholders), in the language asked. */
  messages: Record<string, string>;
  fields: FieldInfo[];
  title_field: string | null;
  /** The fields its records' public status page shows; ``null``: the records have no public side. */
  public_fields?: string[] | null;
  /** Whether the form publishes a help center (its ``help`` block). */
  help_center?: boolean;
  can: { create: boolean; update: boolean; delete: boolean };
  /** The fields a new record's form shows the viewer (a flow's later steps fill the others). */
  create_fields: string[];
}

export interface RecordItem {
  id: number;
  /** The record's form (the API names it ``form``). */
  form: string;
  form_version: number;
  data: Record<string, unknown>;
  lock_version: number;
  created_at: string;
  updated_at: string;
  removed_fields: string[];
  /** In a list: an SLA target of the record is past due and not met. */
  overdue?: boolean;
}

export interface RecordPage {
  items: RecordItem[];
  next_cursor: string | null;
  total: number | null;
}

export interface TimelineEntry {
  /** Insertion order; ``seq`` is the place in the audit chain, null until the sequencer chains it. */
  id: number;
  seq: number | null;
  at: string;
  actor: string;
  action: string;
  payload: Record<string, unknown>;
}

export interface TaskItem {
  id: number;
  node: string;
  node_label?: Record<string, string> | string | null;
  kind: string;
  status: string;
  app_key: string;
  flow_key: string;
  form_key: string;
  record_id: number;
  assignee_id: number | null;
  created_at: string;
  [key: string]: unknown;
}
