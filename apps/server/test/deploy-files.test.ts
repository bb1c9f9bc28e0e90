import { accessSync, constants, existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../src/config/settings.js";

/**
 * The files under deploy/ are not run here (no Docker engine, no systemd, no nginx): this keeps what
 * matters in them consistent with the server they deploy. The keep-fresh script itself runs in
 * keep-fresh.test.ts.
 */
const root = resolve(import.meta.dirname, "../../..");
const read = (path: string): string => readFileSync(join(root, path), "utf8");

const nginx = read("deploy/nginx.conf");
const dockerfile = read("deploy/Dockerfile");
const compose = read("deploy/compose.yaml");
const composeProxy = read("deploy/compose.proxy.yaml");
const unit = read("deploy/codex-img.service");
const keepFreshUnit = read("deploy/codex-img-keep-fresh.service");
const envExample = read("deploy/env.example");

/** The server's body limit, as compose-services.ts sets it (`maxBodyBytes: 64 * 1024 * 1024`). */
function serverBodyLimit(): number {
  const match = /maxBodyBytes:\s*([\d_\s*]+),/.exec(read("apps/server/src/compose-services.ts"));
  if (!match?.[1]) throw new Error("maxBodyBytes not found in compose-services.ts");
  return match[1]
    .split("*")
    .map((part) => Number(part.replaceAll("_", "").trim()))
    .reduce((a, b) => a * b, 1);
}

/** The shutdown grace main.ts gives running jobs (`graceMs: 25_000`), in seconds. */
function shutdownGraceSeconds(): number {
  const graces = [...read("apps/server/src/main.ts").matchAll(/graceMs:\s*([\d_]+)/g)].map(
    (m) => Number(m[1]?.replaceAll("_", "")) / 1000,
  );
  expect(graces.length).toBeGreaterThan(0);
  return Math.max(...graces);
}

function nginxSize(value: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(value);
  if (!match) throw new Error(`unreadable nginx size ${value}`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? "").toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

function nginxSeconds(value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!match) throw new Error(`unreadable nginx time ${value}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? "s"] ?? 1;
  return Number(match[1]) * unit;
}

function directives(text: string, name: string): string[] {
  return [...text.matchAll(new RegExp(`^\\s*${name}\\s+([^;]+);`, "gm"))].map((m) => (m[1] ?? "").trim());
}

/** Keys of every `environment:` block of a compose file (a small line reader: no YAML library here). */
function composeEnvironmentKeys(text: string): string[] {
  const keys: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = /^(\s*)environment:\s*$/.exec(lines[i] ?? "");
    if (!start) continue;
    const indent = (start[1] ?? "").length;
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j] ?? "";
      if (line.trim() === "" || line.trim().startsWith("#")) continue;
      if (line.length - line.trimStart().length <= indent) break;
      const key = /^\s*-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:=]/.exec(line);
      if (key?.[1]) keys.push(key[1]);
    }
  }
  return keys;
}

const interpolated = (text: string): string[] =>
  [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? "");

const settingEnvNames = new Set(
  Object.values(SETTINGS).flatMap((setting) => [setting.env, ...setting.legacyEnv] as string[]),
);

describe("deploy/nginx.conf matches the server", () => {
  it("accepts bodies at least as large as the server does", () => {
    const sizes = directives(nginx, "client_max_body_size").map(nginxSize);
    expect(sizes).not.toHaveLength(0);
    for (const size of sizes) expect(size).toBeGreaterThanOrEqual(serverBodyLimit());
  });

  it("waits longer than the server's synchronous wait before timing out", () => {
    const wait = Number(SETTINGS.requestWaitTimeoutSeconds.defaultText);
    expect(wait).toBe(600);
    for (const name of ["proxy_read_timeout", "proxy_send_timeout"]) {
      const values = directives(nginx, name).map(nginxSeconds);
      expect(values, name).not.toHaveLength(0);
      for (const value of values) expect(value, name).toBeGreaterThan(wait);
    }
  });

  it("strips the URL prefix, streams events unbuffered, forwards the client and throttles login", () => {
    expect(nginx).toMatch(/location \/codex-img\/ \{[^}]*proxy_pass http:\/\/codex-img:8000\/;/s);
    expect(nginx).toMatch(/proxy_buffering off;/);
    expect(nginx).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    expect(nginx).toMatch(/proxy_set_header X-Forwarded-Proto /);
    expect(nginx).toMatch(/limit_req_zone .* zone=codex_img_login:/);
    expect(nginx).toMatch(
      /location ~ \^\/codex-img\/trpc\/[^{]*auth\\\.login \{[^}]*limit_req zone=codex_img_login/s,
    );
    // Each location that proxies also forwards the headers trustProxy relies on.
    const proxied = nginx.split("location").filter((block) => block.includes("proxy_pass"));
    expect(proxied.length).toBe(2);
    for (const block of proxied) expect(block).toContain("X-Forwarded-For");
  });

  it("is used with the prefix and trustProxy on in compose.proxy.yaml", () => {
    expect(composeProxy).toContain("./nginx.conf:/etc/nginx/conf.d/default.conf");
    expect(composeProxy).toMatch(/https:\/\/images\.example\.com\/codex-img\b/);
    expect(composeProxy).toMatch(/^\s+CODEX_IMG_TRUST_PROXY: "true"/m);
    expect(composeProxy).toMatch(/^\s+PUBLIC_BASE_URL:/m);
  });
});

describe("every environment variable the deploy files name is a real setting", () => {
  // Names that are not server settings on purpose.
  const notSettings = new Set([
    "NODE_ENV", // the runtime's
    "MIMALLOC_PURGE_DELAY", // Bun's allocator's (docs/performance.md, "Allocator and heap")
    "MIMALLOC_PURGE_HOLES_MIN_INTERVAL", // the same allocator's (same section)
    "BUN_JSC_forceRAMSize", // Bun's JS engine's (same section)
    "CODEX_HOMES_DIR", // compose interpolation only: the host folder mounted at /codex-homes
  ]);

  const named: Array<[string, string[]]> = [
    [
      "deploy/Dockerfile",
      [...dockerfile.replaceAll("\\\n", " ").matchAll(/^ENV\s+(.*)$/gm)].flatMap((m) =>
        [...(m[1] ?? "").matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((k) => k[1] ?? ""),
      ),
    ],
    ["deploy/compose.yaml", [...composeEnvironmentKeys(compose), ...interpolated(compose)]],
    ["deploy/compose.proxy.yaml", [...composeEnvironmentKeys(composeProxy), ...interpolated(composeProxy)]],
    ...[
      ["deploy/codex-img.service", unit],
      ["deploy/codex-img-keep-fresh.service", keepFreshUnit],
    ].map(([file, text]): [string, string[]] => [
      file ?? "",
      [...(text ?? "").matchAll(/^Environment=([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1] ?? ""),
    ]),
    ["deploy/env.example", [...envExample.matchAll(/^#?\s?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? "")],
  ];

  it.each(named)("%s", (_file, names) => {
    expect(names.length).toBeGreaterThan(0);
    const unknown = names.filter((name) => !settingEnvNames.has(name) && !notSettings.has(name));
    expect(unknown).toEqual([]);
  });

  it("passes CODEX_HOMES_DIR to compose only, never to the server", () => {
    expect(composeEnvironmentKeys(compose)).not.toContain("CODEX_HOMES_DIR");
    expect(composeEnvironmentKeys(composeProxy)).not.toContain("CODEX_HOMES_DIR");
  });

  it("gives a listening-beyond-loopback image a required admin password", () => {
    expect(dockerfile).toMatch(/CODEX_IMG_HOST=0\.0\.0\.0/);
    for (const file of [compose, composeProxy]) expect(file).toMatch(/ADMIN_PASSWORD: \$\{ADMIN_PASSWORD:\?/);
  });
});

describe("stopping waits for the server's shutdown grace", () => {
  it("systemd TimeoutStopSec and compose stop_grace_period exceed it", () => {
    const grace = shutdownGraceSeconds();
    expect(grace).toBe(25);
    const stop = /^TimeoutStopSec=(\d+)$/m.exec(unit);
    expect(Number(stop?.[1])).toBeGreaterThan(grace);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    for (const file of [compose, composeProxy]) {
      const period = /stop_grace_period: (\d+)s/.exec(file);
      expect(Number(period?.[1])).toBeGreaterThan(grace);
    }
  });
});

describe("deploy/codex-img.service", () => {
  it("runs the server with Bun as a service user and can write only its state", () => {
    expect(unit).toMatch(/^User=\S+$/m);
    expect(unit).toMatch(/^WorkingDirectory=\S+$/m);
    expect(unit).toMatch(/^EnvironmentFile=\S+$/m);
    expect(unit).toMatch(
      /^ExecStart=\S*bun --max-http-header-size=65536 --conditions=source apps\/server\/src\/main\.ts serve$/m,
    );
    expect(unit).toMatch(/^Restart=on-failure$/m);
    for (const option of ["NoNewPrivileges=true", "ProtectSystem=strict", "PrivateTmp=true"]) {
      expect(unit).toContain(`\n${option}\n`);
    }
    const dataDir = /^Environment=CODEX_IMG_DATA_DIR=(\S+)$/m.exec(unit)?.[1];
    const writable = /^ReadWritePaths=(.+)$/m.exec(unit)?.[1]?.split(/\s+/) ?? [];
    expect(writable).toContain(dataDir);
    expect(writable.some((path) => path.includes("codex-homes"))).toBe(true);
  });
});

describe("deploy/Dockerfile", () => {
  it("uses the repository's Bun, installs from the lockfile and runs the sources as a non-root user", () => {
    const bunVersion = (
      JSON.parse(read("package.json")) as { packageManager: string }
    ).packageManager.replace("bun@", "");
    expect(dockerfile).toMatch(new RegExp(`^FROM oven/bun:${bunVersion.replaceAll(".", "\\.")}\\b`, "m"));
    expect(dockerfile).toContain("bun install --frozen-lockfile --production");
    expect(dockerfile).toMatch(/^USER (?!root)\S+$/m);
    expect(dockerfile).toMatch(
      /^CMD \["bun", "--max-http-header-size=65536", "--conditions=source", "apps\/server\/src\/main\.ts", "serve"\]$/m,
    );
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/health/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data", "\/codex-homes"\]$/m);
  });

  it("copies every workspace's package.json before installing, and only files that exist", () => {
    const workspaces = (JSON.parse(read("package.json")) as { workspaces: string[] }).workspaces;
    const packageFiles = workspaces.flatMap((glob) => {
      const parent = glob.replace(/\/\*$/, "");
      return readdirSync(join(root, parent))
        .map((name) => `${parent}/${name}/package.json`)
        .filter((path) => existsSync(join(root, path)));
    });
    expect(packageFiles.length).toBeGreaterThan(3);
    for (const path of packageFiles) expect(dockerfile).toContain(`COPY ${path} `);
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of (match[1] ?? "").split(/\s+/))
        expect(existsSync(join(root, source)), source).toBe(true);
    }
  });
});

describe("deploy/keep-fresh.sh", () => {
  it("is executable and runs the lock-respecting script, never `codex`", () => {
    const path = join(root, "deploy/keep-fresh.sh");
    accessSync(path, constants.X_OK);
    const script = read("deploy/keep-fresh.sh");
    expect(script).toContain("--conditions=source deploy/keep-fresh.ts");
    const commands = script.split("\n").filter((line) => !line.trim().startsWith("#"));
    expect(commands.join("\n")).not.toMatch(/\bcodex\b(?!-img)/);
    expect(keepFreshUnit).toMatch(/^ExecStart=\S*deploy\/keep-fresh\.sh$/m);
    expect(read("deploy/codex-img-keep-fresh.timer")).toMatch(/^OnCalendar=/m);
  });
});
