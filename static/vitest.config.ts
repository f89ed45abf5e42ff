import { defineConfig } from "vitest/config";

// Unit tests of the front end's model code (definition ↔ editor state, the API client): plain
// TypeScript in Node, next to the code as `*.test.ts`. Browser behaviour is tested in Chromium by
// the Python suite (tests/e2e).
export default defineConfig({
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
