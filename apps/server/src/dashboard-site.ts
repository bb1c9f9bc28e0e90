import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerBindings } from "@codex-img/api";
import { Hono } from "hono";
import { getPath } from "hono/utils/url";
import { staticFiles } from "./static-files.js";

/**
 * Where `bun run build:dashboard` writes the static export (the same from `src/` and `dist/`), or, in the
 * single-file server that `bun run release` compiles (one bundle, so `import.meta.url` is its entry), the
 * copy embedded beside it.
 */
export const DASHBOARD_DIR: string =
  [
    fileURLToPath(new URL("../../dashboard/out", import.meta.url)),
    fileURLToPath(new URL("./dashboard", import.meta.url)),
  ].find((dir) => existsSync(join(dir, "index.html"))) ??
  fileURLToPath(new URL("../../dashboard/out", import.meta.url));

/** The dashboard's URL path; its build bakes it in (`basePath` in apps/dashboard/next.config.mjs). */
export const DASHBOARD_PATH = "/admin";

type Handler = (request: Request, server?: ServerBindings) => Response | Promise<Response>;

/**
 * Next's static export bootstraps with inline scripts and styles, hence `'unsafe-inline'` there; images
 * are this origin's `/generated/…` plus `data:`/`blob:` previews of chosen reference files.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The service's handler plus the dashboard's static files under `/admin/`, so one process and one URL
 * serve both. The pages are public files; everything they show comes from `/trpc` behind the session.
 * When the dashboard was not built, `/admin/` says how to build it instead of a bare 404.
 */
export function withDashboard(api: Handler, options: { dir?: string } = {}): Handler {
  const dir = options.dir ?? DASHBOARD_DIR;
  const site = new Hono<{ Bindings: ServerBindings }>();
  site.use(`${DASHBOARD_PATH}/*`, async (c, next) => {
    await next();
    // The admin pages must not be framed (clickjacking) nor leak their URLs, and may talk only to this
    // origin: an injected script could neither load code from elsewhere nor send data away.
    c.header("Content-Security-Policy", DASHBOARD_CSP);
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Content-Type-Options", "nosniff");
    // Hashed build assets never change; pages must be re-checked so a new build shows at once.
    const immutable = c.res.ok && c.req.path.startsWith(`${DASHBOARD_PATH}/_next/static/`);
    c.header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  });
  site.get(DASHBOARD_PATH, (c) => c.redirect(`${DASHBOARD_PATH}/`, 308));
  site.get(`${DASHBOARD_PATH}/*`, async (c, next) => {
    if (existsSync(join(dir, "index.html"))) return next();
    return c.text(
      "The dashboard is not built. In the repository run `bun run build:dashboard` (or start with `bun run start`, which builds it), then reload.\n",
      503,
    );
  });
  site.get(
    `${DASHBOARD_PATH}/*`,
    staticFiles({
      root: dir,
      rewriteRequestPath: (path) => path.slice(DASHBOARD_PATH.length) || "/",
    }),
  );
  site.get(`${DASHBOARD_PATH}/*`, async (c) => {
    const page = await readFile(join(dir, "404.html"), "utf8").catch(() => undefined);
    return page === undefined ? c.text("Not found\n", 404) : c.html(page, 404);
  });
  // Other methods under the dashboard path get the API's own answer (JSON 404).
  site.all("*", (c) => api(c.req.raw, c.env));
  // Everything else goes straight to the API: a second router pass per request costs measurable CPU.
  return (request, server) =>
    isDashboardPath(getPath(request)) ? site.fetch(request, server) : api(request, server);
}

function isDashboardPath(path: string): boolean {
  return path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
}
