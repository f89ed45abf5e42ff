import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The API is served by Flask on the same origin; in development, proxy it.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 4000 },
  server: { proxy: { "/api": "http://127.0.0.1:5000" } },
});
