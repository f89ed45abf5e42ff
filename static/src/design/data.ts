// What the designers read and write, through the typed API client: apps, the workbench's list,
// one definition's draft (autosaved with its lock version), the engine's live verdict, versions,
// diffs, the publish impact and publishing itself.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api";
import { client, data, type Schemas } from "../client";

export const KINDS = ["forms", "flows", "rules", "reports", "dashboards", "kpis", "calendars"] as const;
export type Kinds = (typeof KINDS)[number];
export const isKinds = (value: string | undefined): value is Kinds => KINDS.includes(value as Kinds);

export type Body = Record<string, unknown>;
export type Definition = Schemas["Definition"];
/** A problem or warning the engine pins on the element its JSON pointer names. */
export interface Problem {
  path: string;
  code: string;
  message: string;
}
export type Version = Schemas["Version"];

export function useApps() {
  return useQuery({ queryKey: ["design", "apps"], queryFn: async () => data(await client.GET("/api/v1/apps")) });
}

export function useApp(app: string) {
  return useQuery({
    queryKey: ["design", "app", app],
    queryFn: async () => data(await client.GET("/api/v1/apps/{app}", { params: { path: { app } } })),
  });
}

export function useOverview(app: string) {
  return useQuery({
    queryKey: ["design", "overview", app],
    queryFn: async () => data(await client.GET("/api/v1/apps/{app}/definitions", { params: { path: { app } } })),
  });
}

export async function createDefinition(app: string, kinds: Kinds, body: Body): Promise<Definition> {
  return data(await client.POST("/api/v1/apps/{app}/{kinds}", { params: { path: { app, kinds } }, body: { body } }));
}

/** The server's verdict on a body, as publishing would give it (nothing is saved). */
export async function checkBody(app: string, kinds: Kinds, body: Body) {
  return data(await client.POST("/api/v1/apps/{app}/{kinds}/check", { params: { path: { app, kinds } }, body: { body } }));
}

export type SaveState = "saved" | "pending" | "saving" | "failed" | "conflict";

export interface Conflict {
  current: Definition | null;
}

/**
 * One definition's draft, edited locally and saved after a quiet moment (``delay`` ms) with the
 * lock version it is based on. A 409 keeps the local body and offers the other side: reload
 * theirs, or overwrite with ours on their lock version.
 */
export function useDraft(app: string, kinds: Kinds, key: string, delay = 800) {
  const queries = useQueryClient();
  const queryKey = ["design", "draft", app, kinds, key];
  const loaded = useQuery({
    queryKey,
    queryFn: async () =>
      data(await client.GET("/api/v1/apps/{app}/{kinds}/{key}", { params: { path: { app, kinds, key } } })),
    staleTime: Infinity,
  });
  const [body, setLocal] = useState<Body | null>(null);
  const [state, setState] = useState<SaveState>("saved");
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const lock = useRef<number | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef<Body | null>(null);
  /** The body the server holds, as text: a body equal to it needs no save. */
  const stored = useRef<string | null>(null);
  const [seeded, setSeeded] = useState<Definition | undefined>(undefined);
  if (loaded.data && seeded !== loaded.data) {
    setSeeded(loaded.data);
    setLocal(loaded.data.body as Body);
    setProblems((loaded.data as { problems?: Problem[] }).problems ?? []);
  }
  useEffect(() => {
    if (loaded.data) {
      lock.current = loaded.data.lock_version;
      latest.current = loaded.data.body as Body;
      stored.current = JSON.stringify(loaded.data.body);
    }
  }, [loaded.data]);

  const send = useCallback(
    async (next: Body, lockVersion?: number) => {
      setState("saving");
      try {
        const saved = data(
          await client.PUT("/api/v1/apps/{app}/{kinds}/{key}", {
            params: { path: { app, kinds, key } },
            body: { body: next, lock_version: lockVersion ?? lock.current ?? 1 },
          }),
        );
        lock.current = saved.lock_version;
        stored.current = JSON.stringify(next);
        setProblems((saved as { problems?: Problem[] }).problems ?? []);
        if (latest.current === next) setState("saved");
        else setState("pending");
        void queries.invalidateQueries({ queryKey: ["design", "overview", app] });
        return saved;
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          setConflict({ current: (error.body.current as Definition | undefined) ?? null });
          setState("conflict");
        } else setState("failed");
        throw error;
      }
    },
    [app, kinds, key, queries],
  );

  /** The save on its way (saves go one after another: each is based on the lock version the
   * one before it got back; two in flight at once would both send the same, and the second
   * would meet its own first as "changed by someone else"). */
  const inflight = useRef<Promise<unknown> | null>(null);

  const save = useCallback(
    async (next: Body, lockVersion?: number) => {
      const before = inflight.current;
      const run = (async () => {
        if (before) await before.catch(() => undefined);
        return send(next, lockVersion);
      })();
      inflight.current = run;
      try {
        return await run;
      } finally {
        if (inflight.current === run) inflight.current = null;
      }
    },
    [send],
  );

  const setBody = useCallback(
    (next: Body) => {
      setLocal(next);
      latest.current = next;
      if (state === "conflict") return; // nothing saves until the conflict is settled
      if (timer.current) clearTimeout(timer.current);
      // an editor that hands back what the server holds (a builder normalising on open, an
      // undo to the saved state) changes nothing: no save, no new lock version
      if (JSON.stringify(next) === stored.current) {
        if (state !== "saving") setState("saved");
        return;
      }
      setState("pending");
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        void save(next).catch(() => undefined);
      }, delay);
    },
    [delay, save, state],
  );

  /** Save now (before publishing): resolves once the server holds the local body. */
  const flush = useCallback(async () => {
    if (timer.current) clearTimeout(timer.current);
    if (state === "saved" || latest.current === null) return;
    await save(latest.current);
  }, [save, state]);

  const reload = useCallback(async () => {
    setConflict(null);
    setState("saved");
    await queries.invalidateQueries({ queryKey });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- queryKey is rebuilt from its parts
  }, [queries, app, kinds, key]);

  const overwrite = async () => {
    const theirs = conflict?.current?.lock_version;
    setConflict(null);
    if (latest.current) await save(latest.current, theirs).catch(() => undefined);
  };

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  return { loaded, body, setBody, state, problems, conflict, flush, reload, overwrite, lockVersion: () => lock.current };
}

/** The engine's live verdict on the local body, asked after a quiet moment. */
export function useLiveCheck(app: string, kinds: Kinds, body: Body | null, delay = 500) {
  const [verdict, setVerdict] = useState<{ problems: Problem[]; warnings: Problem[] } | null>(null);
  const [checking, setChecking] = useState(false);
  useEffect(() => {
    if (!body) return;
    let current = true;
    const timer = setTimeout(() => {
      setChecking(true);
      checkBody(app, kinds, body)
        .then((found) => {
          if (current) setVerdict({ problems: found.problems as Problem[], warnings: found.warnings as Problem[] });
        })
        .catch(() => undefined)
        .finally(() => current && setChecking(false));
    }, delay);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [app, kinds, body, delay]);
  return { verdict, checking };
}

export function useVersions(app: string, kinds: Kinds, key: string) {
  return useQuery({
    queryKey: ["design", "versions", app, kinds, key],
    queryFn: async () =>
      data(await client.GET("/api/v1/apps/{app}/{kinds}/{key}/versions", { params: { path: { app, kinds, key } } })),
  });
}

export function useImpact(app: string, kinds: Kinds, key: string, enabled: boolean) {
  return useQuery({
    queryKey: ["design", "impact", app, kinds, key],
    queryFn: async () =>
      data(await client.GET("/api/v1/apps/{app}/{kinds}/{key}/impact", { params: { path: { app, kinds, key } } })),
    enabled,
    staleTime: 0,
  });
}

export function useDiff(app: string, kinds: Kinds, key: string, from: number | null, to: number | "draft") {
  return useQuery({
    queryKey: ["design", "diff", app, kinds, key, from, to],
    queryFn: async () =>
      data(
        await client.GET("/api/v1/apps/{app}/{kinds}/{key}/diff", {
          params: { path: { app, kinds, key }, query: { from: String(from), to: String(to), view: "fields" } },
        }),
      ),
    enabled: from !== null,
  });
}

export function usePublish(app: string, kinds: Kinds, key: string) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (input: { note: string; lock_version: number | null }) =>
      data(
        await client.POST("/api/v1/apps/{app}/{kinds}/{key}/publish", {
          params: { path: { app, kinds, key } },
          body: { note: input.note, lock_version: input.lock_version ?? undefined },
        }),
      ),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["design"] }),
  });
}

export async function restoreVersion(app: string, kinds: Kinds, key: string, number: number, lockVersion: number) {
  return data(
    await client.POST("/api/v1/apps/{app}/{kinds}/{key}/versions/{number}/restore", {
      params: { path: { app, kinds, key, number } },
      body: { lock_version: lockVersion },
    }),
  );
}

/** A text in the language asked, falling back to zh-CN, then to ``fallback``. */
export function label(text: unknown, lang: string, fallback = ""): string {
  if (typeof text === "string") return text;
  if (text && typeof text === "object") {
    const map = text as Record<string, string>;
    return map[lang] || map["zh-CN"] || fallback;
  }
  return fallback;
}

/** ``value`` with ``patch`` applied, a property patched to ``undefined`` dropped (a definition
 * says nothing rather than ``null``). */
export function patched<T extends object>(value: T, patch: Partial<T>): T {
  const next: Record<string, unknown> = { ...value, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
  return next as T;
}
