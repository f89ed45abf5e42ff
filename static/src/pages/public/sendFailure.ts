// What a public form (an intake link, a survey) shows when sending it failed.
import type { ErrorSchema } from "@rjsf/utils";
import { ApiError } from "../../api";
import { serverErrors } from "../../forms";
import { splitErrors } from "./model";

export interface Problem {
  title: string;
  detail: string;
}

/** A 422's messages pinned on the ``shown`` fields (the others in the problem's detail), a
 * 429's sentence, or the failure as it came; ``titles`` say each in the page's words. */
export function sendFailure(
  error: unknown,
  shown: readonly string[],
  titles: { fix: string; limited: string; failed: string },
): { errors?: ErrorSchema; problem: Problem } {
  if (error instanceof ApiError && error.status === 422) {
    const { pinned, rest } = splitErrors(error.errors, shown);
    return { errors: serverErrors(pinned), problem: { title: titles.fix, detail: rest.join("；") || error.message } };
  }
  if (error instanceof ApiError && error.status === 429) return { problem: { title: titles.limited, detail: error.message } };
  return { problem: { title: titles.failed, detail: error instanceof Error ? error.message : String(error) } };
}
