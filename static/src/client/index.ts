// The typed API client: the paths, parameters and bodies of `schema.d.ts`, which is generated from
// the server's own OpenAPI document (`make api-types`; `make lint` fails when it is out of date).
// New screens use it instead of hand-written interfaces; failures arrive as the same `ApiError`
// (RFC 9457 problem details) as from `api()`.
import createClient, { type Middleware } from "openapi-fetch";
import { ApiError, csrfToken, noticeStatus, uiLanguage } from "../api";
import type { components, paths } from "./schema";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Sends the CSRF token with unsafe requests and turns every failure into an `ApiError`. */
export const problems: Middleware = {
  onRequest({ request }) {
    const token = csrfToken();
    if (!SAFE.has(request.method) && token) request.headers.set("X-CSRF-Token", token);
    request.headers.set("Accept", "application/json");
    request.headers.set("Accept-Language", uiLanguage());
    return request;
  },
  async onResponse({ response }) {
    if (response.ok) return response;
    noticeStatus(response.status, new URL(response.url, "http://local").pathname);
    const text = await response.clone().text();
    let body: Record<string, unknown>;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { detail: `HTTP ${response.status}` };
    }
    throw new ApiError(response.status, body);
  },
};

/** A client of the API at ``baseUrl`` (the page's own origin by default). */
export function makeClient(baseUrl = "") {
  const made = createClient<paths>({
    baseUrl,
    credentials: "same-origin",
    fetch: (request: Request) => globalThis.fetch(request), // looked up per call
  });
  made.use(problems);
  return made;
}

export const client = makeClient();

/** The data of a successful call: failures have already thrown `ApiError` (see `problems`). */
export function data<T>(result: { data?: T; error?: unknown }): T {
  if (result.data === undefined) throw new ApiError(500, { detail: "empty response" });
  return result.data;
}

export type Schemas = components["schemas"];
export type { paths };
