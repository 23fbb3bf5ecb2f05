import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The console is static files: index.html, hashed JS and CSS, nothing inline (the CSP allows scripts and styles
// from 'self' only). Its runtime configuration (API base, sign-in) is fetched from /config.json.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
  },
});
