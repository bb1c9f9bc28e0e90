import { fileURLToPath } from "node:url";

/** The repo root: workspace packages and the hoisted `node_modules/.bun` store live above this app. */
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * A static export the server serves under `/admin/`; everything dynamic happens in the browser against
 * tRPC on the same origin, so no Next server runs in production.
 *
 * @type {import("next").NextConfig}
 */
const nextConfig = {
  output: "export",
  basePath: "/admin",
  // `/admin/keys/` → `out/keys/index.html`, which any static file server maps without rewrites.
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
};

export default nextConfig;
