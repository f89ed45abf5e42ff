// A draft rule or SLA policy tried on stored records (the rules' simulate endpoint): the records a
// filter picks, how many of the newest, and the answer, the error or that it is running.
import { useState } from "react";
import { problemText } from "../../api";
import { client, data } from "../../client";
import { toQuery, type RecordFilter } from "./filters";

export function useWhatIf<T>(app: string, key: string, body: unknown, initialLimit: number) {
  const [result, setResult] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [filters, setFilters] = useState<RecordFilter[]>([]);
  const [limit, setLimit] = useState(initialLimit);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const answer = data(
        await client.POST("/api/v1/apps/{app}/rules/{key}/simulate", {
          params: { path: { app, key } },
          body: { body: body as Record<string, unknown>, limit, filter: toQuery(filters) },
        }),
      );
      setResult(answer as unknown as T);
    } catch (e) {
      setResult(null);
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  return { result, error, busy, run, filters, setFilters, limit, setLimit };
}
