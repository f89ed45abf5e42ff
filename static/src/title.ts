// The browser tab names the page, as people look for it among their tabs and history:
// "售后工单 #554 · 七巧板".
import { useEffect } from "react";

export const PRODUCT = "七巧板";

/** The title for ``parts`` (the empty ones left out), the product's name last. */
export function pageTitle(...parts: (string | null | undefined)[]): string {
  return [...parts.filter((p): p is string => Boolean(p && p.trim())), PRODUCT].join(" · ");
}

/** Name the page in the browser's tab while it is shown. */
export function usePageTitle(...parts: (string | null | undefined)[]): void {
  const title = pageTitle(...parts);
  useEffect(() => {
    document.title = title;
  }, [title]);
}
