import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { compression } from "vite-plugin-compression2";
import { antdStyles } from "./antdStyles.ts";
import { THEME } from "./src/theme.ts";

// The API is served by Flask on the same origin; in development, proxy it. The build writes a
// gzip and a brotli copy of every script, style sheet and page beside it, which the server sends
// to browsers that accept them (tangram/web/app.py), and antd's styles for the app's theme into a
// style sheet (antdStyles.ts).
export default defineConfig({
  plugins: [react(), antdStyles(THEME), compression({ algorithms: ["gzip", "brotliCompress"], include: /\.(js|css|html|svg|json)$/, threshold: 1024 })],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 4000 },
  server: { proxy: { "/api": "http://127.0.0.1:5000" } },
});
