import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, setCsrf } from "../api";
import { makeClient } from "./index";

const client = makeClient("http://tangram.test");

function answer(status: number, body: unknown, type = "application/json"): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": type },
  });
}

describe("the typed API client", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    setCsrf(null);
  });

  it("returns the typed body of a success", async () => {
    const fetch = vi.fn(async (_request: Request) => answer(200, [{ key: "aftersales" }]));
    vi.stubGlobal("fetch", fetch);
    const { data } = await client.GET("/api/v1/apps");
    expect(data?.[0]?.key).toBe("aftersales");
    const request = fetch.mock.calls[0]![0];
    expect(new URL(request.url).pathname).toBe("/api/v1/apps");
    expect(request.headers.get("X-CSRF-Token")).toBeNull(); // safe methods carry no token
    expect(request.headers.get("Accept-Language")).toBe("zh-CN"); // problems come in the user's language
  });

  it("sends the CSRF token with unsafe requests", async () => {
    setCsrf("t0ken");
    const fetch = vi.fn(async (_request: Request) => answer(201, { key: "x" }));
    vi.stubGlobal("fetch", fetch);
    await client.POST("/api/v1/apps", { body: { key: "x", name: { "zh-CN": "X" } } });
    expect(fetch.mock.calls[0]![0].headers.get("X-CSRF-Token")).toBe("t0ken");
  });

  it("throws the problem details of a failure as ApiError", async () => {
    const problem = { type: "urn:tangram:conflict", title: "Conflict", status: 409, code: "conflict.stale", detail: "changed" };
    vi.stubGlobal("fetch", vi.fn(async () => answer(409, problem, "application/problem+json")));
    const error = await client.GET("/api/v1/apps").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(409);
    expect((error as ApiError).code).toBe("conflict.stale");
    expect((error as ApiError).message).toBe("changed");
  });

  it("reports a failure without a JSON body by its status", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("<html>bad gateway</html>", { status: 502 })));
    const error = (await client.GET("/api/v1/apps").catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.message).toBe("HTTP 502");
  });
});
