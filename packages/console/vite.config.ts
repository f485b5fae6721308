/**
 * The console's build: React, one entry (`index.html`), hashed assets, source maps, no inline
 * scripts or styles (the gateway serves it under a strict Content-Security-Policy).
 */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ["@freehold/source"] },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
  },
});
