import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { withDashboard } from "../src/dashboard-site.js";

// How the server serves the dashboard's static export under /admin/ in front of the API.

const api = (request: Request): Response => Response.json({ api: new URL(request.url).pathname });
let dir: string | undefined;

afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function builtSite(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), "codex-img-dashboard-"));
  await mkdir(join(dir, "keys"), { recursive: true });
  await mkdir(join(dir, "_next", "static", "chunks"), { recursive: true });
  await writeFile(join(dir, "index.html"), "<h1>overview</h1>");
  await writeFile(join(dir, "keys", "index.html"), "<h1>keys</h1>");
  await writeFile(join(dir, "404.html"), "<h1>no such page</h1>");
  await writeFile(join(dir, "_next", "static", "chunks", "app-1a2b.js"), "console.log(1)");
  return dir;
}

const get = (handler: (r: Request) => Response | Promise<Response>, path: string) =>
  handler(new Request(`http://127.0.0.1:8000${path}`));

describe("withDashboard", () => {
  it("serves pages and hashed assets under /admin/ and passes everything else to the API", async () => {
    const site = withDashboard(api, { dir: await builtSite() });
    const redirect = await get(site, "/admin");
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("/admin/");

    const index = await get(site, "/admin/");
    expect(index.status).toBe(200);
    expect(await index.text()).toBe("<h1>overview</h1>");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("x-frame-options")).toBe("DENY");
    expect(index.headers.get("content-security-policy")).toContain("connect-src 'self'");
    expect(index.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(index.headers.get("content-type")).toContain("text/html");

    expect(await (await get(site, "/admin/keys/")).text()).toBe("<h1>keys</h1>");
    const asset = await get(site, "/admin/_next/static/chunks/app-1a2b.js");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");

    const missing = await get(site, "/admin/nothing-here/");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("<h1>no such page</h1>");
    const traversal = await get(site, "/admin/..%2f..%2fpackage.json");
    expect(traversal.status).toBe(404);

    expect(await (await get(site, "/v1/images/jobs")).json()).toEqual({ api: "/v1/images/jobs" });
  });

  it("says how to build the dashboard when it was not built", async () => {
    const site = withDashboard(api, { dir: join(tmpdir(), "codex-img-no-such-build") });
    const response = await get(site, "/admin/");
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("bun run build:dashboard");
    expect((await get(site, "/health")).status).toBe(200);
  });
});
