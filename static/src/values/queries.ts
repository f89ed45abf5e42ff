// What reading a record asks the server besides the record: its form's schema, people's names and
// referenced records' titles. Shared by the reading pages and the form's pickers (one cache).
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { api, type FormSchema, type RecordPage } from "../api";
import { useLang } from "../i18n";
import { personName } from "./format";

export function useFormSchema(app: string, form: string) {
  const { lang } = useLang();
  return useQuery({
    queryKey: ["form-schema", app, form, lang],
    queryFn: () => api<FormSchema>(`/apps/${app}/forms/${form}/schema`, { query: { lang } }),
    enabled: Boolean(app && form), // a task page knows its form once the task has loaded
  });
}

/** The request naming records of another form by id (their display field), in one call; shared
by a reference picker and a list's reference column so they share its cache. */
export function referenceTitles(app: string, target: string, display: string | null, ids: number[]) {
  const wanted = [...new Set(ids)].sort((a, b) => a - b).slice(0, 500);
  return {
    queryKey: ["reference-titles", app, target, display, wanted],
    queryFn: () =>
      api<RecordPage>(`/apps/${app}/records/${target}`, {
        query: { _id__in: wanted.join(","), limit: wanted.length },
      }),
    enabled: Boolean(app && target && display) && wanted.length > 0,
    staleTime: 60_000,
    retry: false,
  };
}

export interface People {
  users: { id: number; username: string; display_name: string }[];
  groups: { id: number; key: string; name: string }[];
}

export function usePeople(app: string, q: string, ids: number[]) {
  return useQuery({
    queryKey: ["people", app, q, ids],
    queryFn: () => api<People>(`/apps/${app}/people`, { query: { q, ids: ids.map(String) } }),
    enabled: Boolean(app),
    staleTime: 60_000,
  });
}

/** Names of users and groups by id (``#id`` until they load, or for one the app cannot name).
The two functions stay the same until the names arrive, so that memoised rows keep. */
export function usePeopleNames(app: string, ids: (number | null | undefined)[]) {
  const wanted = [...new Set(ids.filter((i): i is number => typeof i === "number"))].sort((a, b) => a - b);
  const people = useQuery({
    queryKey: ["people", app, "", wanted],
    queryFn: () => api<People>(`/apps/${app}/people`, { query: { ids: wanted.map(String) } }),
    enabled: Boolean(app) && wanted.length > 0,
    staleTime: 60_000,
  });
  const data = people.data;
  return useMemo(
    () => ({
      user: (id: number | null | undefined): string => personName(data?.users, id),
      group: (id: number | null | undefined): string => personName(data?.groups, id),
    }),
    [data],
  );
}
