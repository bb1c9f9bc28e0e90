import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CodexImgError } from "@codex-img/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  adminPasswordWeakness,
  assertSafeToListen,
  type ConfigProblem,
  isLoopbackHost,
  type LoadConfigOptions,
  loadConfig,
  loadConfigFromProcess,
  redactedConfig,
  resolveSessionSecret,
  SETTING_KEYS,
  SETTINGS,
  type SettingKey,
} from "../src/index.js";

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), "codex-img-config-"));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const load = (options: LoadConfigOptions = {}): ReturnType<typeof loadConfig> =>
  loadConfig({ cwd, ...options });

function problemsOf(run: () => unknown): { error: CodexImgError; problems: ConfigProblem[] } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CodexImgError);
    const codexError = error as CodexImgError;
    expect(codexError.code).toBe("invalid_request");
    return { error: codexError, problems: codexError.details.problems as ConfigProblem[] };
  }
  throw new Error("expected a configuration error");
}

describe("defaults", () => {
  it("fills every setting, deriving the database from the data folder", () => {
    const { config, sources } = load();
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8000,
      dataDir: join(cwd, "data"),
      databaseUrl: `file:${join(cwd, "data", "codex-img.db")}`,
      basePath: "",
      codexHomes: "~/.codex",
      backend: "auto",
      workerConcurrency: 2,
      queueMaxSize: 50,
      requestWaitTimeoutSeconds: 600,
      imageRetentionDays: 7,
      cleanupIntervalHours: 6,
      dispatchMode: "quota-aware",
      minRemainingPercent: 5,
      cliSandbox: "read-only",
      trustProxy: false,
      signedUrls: true,
      logLevel: "info",
    });
    expect(config.adminPassword).toBeUndefined();
    expect(config.sessionSecret).toBeUndefined();
    for (const key of SETTING_KEYS) expect(sources[key]).toEqual({ from: "default" });
  });

  it("states in each spec the default the schema applies", () => {
    const { config } = load();
    for (const key of SETTING_KEYS) {
      const value = config[key];
      if (value === undefined || key === "dataDir" || key === "databaseUrl" || key === "basePath") continue;
      expect(SETTINGS[key].defaultText, key).toBe(String(value));
    }
  });
});

describe("precedence: flag > environment > config file > default", () => {
  const cases: Array<{
    key: SettingKey;
    flag: string;
    env: string;
    file: unknown;
    expected: [unknown, unknown, unknown];
  }> = [
    { key: "port", flag: "9001", env: "9002", file: 9003, expected: [9001, 9002, 9003] },
    {
      key: "host",
      flag: "::1",
      env: "localhost",
      file: "127.0.0.2",
      expected: ["::1", "localhost", "127.0.0.2"],
    },
    { key: "workerConcurrency", flag: "3", env: "4", file: 5, expected: [3, 4, 5] },
    { key: "imageRetentionDays", flag: "1.5", env: "2", file: 3, expected: [1.5, 2, 3] },
    { key: "trustProxy", flag: "true", env: "false", file: true, expected: [true, false, true] },
    {
      key: "backend",
      flag: "demo",
      env: "codex-cli",
      file: "codex-http",
      expected: ["demo", "codex-cli", "codex-http"],
    },
  ];

  for (const { key, flag, env, file, expected } of cases) {
    it(`for ${key}`, () => {
      const setting = SETTINGS[key];
      const argv = [`--${setting.flag}=${flag}`];
      const environment = { [setting.env]: env };
      const configFile = { path: "/etc/codex-img.json", content: { [key]: file } };

      const all = load({ argv, env: environment, configFile });
      expect(all.config[key]).toBe(expected[0]);
      expect(all.sources[key]).toEqual({ from: "flag", name: `--${setting.flag}` });

      const noFlag = load({ env: environment, configFile });
      expect(noFlag.config[key]).toBe(expected[1]);
      expect(noFlag.sources[key]).toEqual({ from: "env", name: setting.env });

      const fileOnly = load({ configFile });
      expect(fileOnly.config[key]).toBe(expected[2]);
      expect(fileOnly.sources[key]).toEqual({ from: "file", name: `/etc/codex-img.json: "${key}"` });

      expect(load().sources[key]).toEqual({ from: "default" });
    });
  }

  it("reads config.json from the data folder, and --config / CODEX_IMG_CONFIG over it", async () => {
    await writeFile(join(cwd, "data.json"), "{}");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(cwd, "data"));
    await writeFile(join(cwd, "data", "config.json"), JSON.stringify({ port: 7001 }));
    await writeFile(join(cwd, "other.json"), JSON.stringify({ port: 7002 }));
    await writeFile(join(cwd, "third.json"), JSON.stringify({ port: 7003 }));

    expect(load().config.port).toBe(7001);
    expect(load().configFile).toBe(join(cwd, "data", "config.json"));
    expect(load({ env: { CODEX_IMG_CONFIG: "other.json" } }).config.port).toBe(7002);
    expect(
      load({ argv: ["--config", "third.json"], env: { CODEX_IMG_CONFIG: "other.json" } }).config.port,
    ).toBe(7003);
  });

  it("finds the default config file in a data folder given by flag", async () => {
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(cwd, "state"));
    await writeFile(join(cwd, "state", "config.json"), JSON.stringify({ queueMaxSize: 9 }));
    const { config } = load({ argv: ["--data-dir", "state"] });
    expect(config.queueMaxSize).toBe(9);
    expect(config.dataDir).toBe(join(cwd, "state"));
  });

  it("accepts a list of Codex homes in the config file", () => {
    const { config } = load({ configFile: { content: { codexHomes: ["a=/homes/a", "/homes/b"] } } });
    expect(config.codexHomes).toBe("a=/homes/a:/homes/b");
  });

  it("takes --no-<flag> for booleans and returns positionals", () => {
    const { config, positionals } = load({
      argv: ["doctor", "--no-signed-urls"],
      env: { CODEX_IMG_SIGNED_URLS: "yes" },
    });
    expect(config.signedUrls).toBe(false);
    expect(positionals).toEqual(["doctor"]);
  });
});

describe("the predecessor's variable names", () => {
  const legacy: Array<[string, string, SettingKey, unknown]> = [
    ["ADMIN_PASSWORD", "a-long-admin-password", "adminPassword", "a-long-admin-password"],
    ["ADMIN_SESSION_SECRET", "0123456789abcdef0123", "sessionSecret", "0123456789abcdef0123"],
    ["CODEX_HOMES", "/homes/a:/homes/b", "codexHomes", "/homes/a:/homes/b"],
    ["CODEX_HOME", "/homes/single", "codexHomes", "/homes/single"],
    [
      "PUBLIC_BASE_URL",
      "https://img.example.com/codex-image/",
      "publicBaseUrl",
      "https://img.example.com/codex-image",
    ],
    ["ADMIN_URL_PREFIX", "/codex-image", "basePath", "/codex-image"],
    ["IMAGE_RETENTION_DAYS", "14", "imageRetentionDays", 14],
    ["CLEANUP_INTERVAL_HOURS", "12", "cleanupIntervalHours", 12],
    ["CODEX_WORKER_CONCURRENCY", "4", "workerConcurrency", 4],
    ["GENERATION_QUEUE_MAX_SIZE", "100", "queueMaxSize", 100],
    ["REQUEST_WAIT_TIMEOUT_SECONDS", "300", "requestWaitTimeoutSeconds", 300],
    [
      "CODEX_REFRESH_TOKEN_URL_OVERRIDE",
      "http://127.0.0.1:9/oauth/token",
      "refreshTokenUrl",
      "http://127.0.0.1:9/oauth/token",
    ],
    ["OPENAI_API_KEY", "sk-test", "openaiApiKey", "sk-test"],
    ["DATABASE_URL", "libsql://db.example.turso.io", "databaseUrl", "libsql://db.example.turso.io"],
    ["DATABASE_AUTH_TOKEN", "turso-token", "databaseAuthToken", "turso-token"],
    ["PORT", "3000", "port", 3000],
  ];
  for (const [name, value, key, expected] of legacy) {
    it(`${name} sets ${key}`, () => {
      const { config, sources, warnings } = load({ env: { [name]: value } });
      expect(config[key]).toEqual(expected);
      expect(sources[key]).toEqual({ from: "env", name });
      expect(warnings).toEqual([]);
    });
  }

  it("derives basePath from PUBLIC_BASE_URL", () => {
    const { config } = load({ env: { PUBLIC_BASE_URL: "https://img.example.com/codex-image" } });
    expect(config.basePath).toBe("/codex-image");
  });

  it("lets the new name win over the old one, with a warning", () => {
    const { config, sources, warnings } = load({
      env: {
        CODEX_IMG_WORKER_CONCURRENCY: "6",
        CODEX_WORKER_CONCURRENCY: "3",
        CODEX_HOMES: "/a",
        CODEX_HOME: "/b",
      },
    });
    expect(config.workerConcurrency).toBe(6);
    expect(sources.workerConcurrency).toEqual({ from: "env", name: "CODEX_IMG_WORKER_CONCURRENCY" });
    expect(config.codexHomes).toBe("/a");
    expect(warnings).toEqual([
      "CODEX_HOMES is set, so CODEX_HOME is ignored.",
      "CODEX_IMG_WORKER_CONCURRENCY is set, so CODEX_WORKER_CONCURRENCY is ignored.",
    ]);
  });

  it("treats empty variables as unset, as .env templates leave them", () => {
    const { config, sources } = load({ env: { ADMIN_PASSWORD: "", CODEX_IMG_PORT: " " } });
    expect(config.adminPassword).toBeUndefined();
    expect(config.port).toBe(8000);
    expect(sources.port).toEqual({ from: "default" });
  });
});

describe("validation", () => {
  it("reports every problem at once, by the name the owner used", () => {
    const { error, problems } = problemsOf(() =>
      load({
        argv: ["--port", "99999", "--bogus", "--host"],
        env: {
          CODEX_WORKER_CONCURRENCY: "two",
          CODEX_IMG_BACKEND: "magic",
          PUBLIC_BASE_URL: "ftp://example.com",
          CODEX_IMG_TRUST_PROXY: "maybe",
        },
        configFile: { path: "/etc/c.json", content: { imageRetentionDays: -1, colour: "blue" } },
      }),
    );
    const names = problems.map((problem) => problem.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "--port",
        "--bogus",
        "--host",
        "CODEX_WORKER_CONCURRENCY",
        "CODEX_IMG_BACKEND",
        "PUBLIC_BASE_URL",
        "CODEX_IMG_TRUST_PROXY",
        '/etc/c.json: "imageRetentionDays"',
        '/etc/c.json: "colour"',
      ]),
    );
    expect(problems).toHaveLength(9);
    expect(error.message).toMatch(/^Invalid configuration \(9 problems\):/);
    expect(error.message).toContain("  - --port: must be from 0 to 65535");
    expect(error.message).toContain("  - CODEX_WORKER_CONCURRENCY: must be a whole number");
    expect(error.message).toContain(
      "  - CODEX_IMG_BACKEND: must be one of auto, codex-http, codex-cli, openai, demo",
    );
    expect(error.message).toContain("  - --host: needs a value");
  });

  it("checks settings that depend on each other", () => {
    const { problems } = problemsOf(() =>
      load({
        env: {
          CODEX_IMG_BACKEND: "openai",
          DATABASE_URL: "libsql://db.example.turso.io",
          DATABASE_SYNC_URL: "libsql://db.example.turso.io",
          CODEX_HOMES: "a=/x:a=/y",
        },
      }),
    );
    expect(problems.map((problem) => problem.setting)).toEqual([
      "openaiApiKey",
      "databaseSyncUrl",
      "codexHomes",
    ]);
    expect(problems[0]?.message).toContain('required when the backend is "openai" (CODEX_IMG_BACKEND)');
  });

  it("reports a missing or broken config file", async () => {
    expect(problemsOf(() => load({ argv: ["--config", "nope.json"] })).problems[0]?.message).toBe(
      "config file does not exist",
    );
    await writeFile(join(cwd, "bad.json"), '{"adminPassword": "hunter2-secret-value",');
    const { error } = problemsOf(() => load({ configFile: "bad.json" }));
    expect(error.message).toContain("config file is not valid JSON");
    expect(error.message).not.toContain("hunter2");
  });

  it("never echoes a secret in an error", () => {
    const secret = "s3cr3t-value-that-must-not-leak";
    const { error } = problemsOf(() =>
      load({
        argv: [`--session-secret=${secret.slice(0, 10)}`],
        env: { CODEX_IMG_BACKEND: "openai", DATABASE_URL: `postgres://u:${secret}@h/db` },
        configFile: { content: { adminPassword: 42, port: secret } },
      }),
    );
    const text = `${error.message}\n${JSON.stringify(error.toJSON())}`;
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(0, 10));
    expect(text).toContain("--session-secret: must be at least 16 characters");
  });

  it("warns when a secret is given on the command line", () => {
    const { warnings } = load({ argv: ["--admin-password", "a-strong-password-here"] });
    expect(warnings).toEqual([expect.stringContaining("--admin-password is visible")]);
  });
});

describe("redactedConfig", () => {
  it("shows secrets only as set / not set, and strips credentials from URLs", () => {
    const { config } = load({
      env: {
        ADMIN_PASSWORD: "correct-horse-battery",
        ADMIN_SESSION_SECRET: "session-secret-0123456789",
        DATABASE_URL: "libsql://user:pw-xyz@db.example.turso.io?authToken=tok-abc",
        DATABASE_AUTH_TOKEN: "turso-token-value",
      },
    });
    const redacted = redactedConfig(config);
    expect(redacted.adminPassword).toBe("[set]");
    expect(redacted.sessionSecret).toBe("[set]");
    expect(redacted.databaseAuthToken).toBe("[set]");
    expect(redacted.openaiApiKey).toBe("[not set]");
    expect(redacted.port).toBe(8000);
    const text = JSON.stringify(redacted);
    for (const secret of [
      "correct-horse-battery",
      "session-secret-0123456789",
      "pw-xyz",
      "tok-abc",
      "turso-token-value",
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(redacted.databaseUrl).toContain("db.example.turso.io");
  });
});

describe("assertSafeToListen", () => {
  const at = (host: string, adminPassword?: string): void =>
    assertSafeToListen({ host, port: 8000, ...(adminPassword === undefined ? {} : { adminPassword }) });

  it("allows loopback without a password", () => {
    for (const host of [
      "127.0.0.1",
      "127.1.2.3",
      "localhost",
      "::1",
      "[::1]",
      "0:0:0:0:0:0:0:1",
      "::ffff:127.0.0.1",
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(() => at(host)).not.toThrow();
    }
  });

  it("refuses beyond loopback with an empty, default or short password, naming ADMIN_PASSWORD", () => {
    for (const password of [
      undefined,
      "",
      "change-me",
      "admin",
      "password",
      "changeme",
      "short-pw",
      "Change-Me-Please!",
      "aaaaaaaaaaaaaaaa",
    ]) {
      let caught: unknown;
      try {
        at("0.0.0.0", password);
      } catch (error) {
        caught = error;
      }
      expect(caught, String(password)).toBeInstanceOf(CodexImgError);
      const message = (caught as Error).message;
      expect(message).toContain("ADMIN_PASSWORD");
      expect(message).toContain("0.0.0.0");
      // Dictionary words such as "password" occur in the message itself; the others must not.
      if (password && password.length > 8) expect(message).not.toContain(password);
    }
    expect(isLoopbackHost("0.0.0.0")).toBe(false);
    expect(isLoopbackHost("::")).toBe(false);
    expect(isLoopbackHost("192.168.1.10")).toBe(false);
    expect(() => at("192.168.1.10", "")).toThrow(/ADMIN_PASSWORD/);
  });

  it("allows any address with a strong password", () => {
    expect(adminPasswordWeakness("vK9#qL2m!xR7tW4z")).toBeUndefined();
    expect(() => at("0.0.0.0", "vK9#qL2m!xR7tW4z")).not.toThrow();
    expect(() => at("::", "correct horse battery staple")).not.toThrow();
  });
});

describe("resolveSessionSecret", () => {
  it("generates a secret once, keeps it in the data folder, and prefers a configured one", async () => {
    const dataDir = join(cwd, "data");
    const first = await resolveSessionSecret({ dataDir });
    expect(first.origin).toBe("generated");
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect((await stat(join(dataDir, "session-secret"))).mode & 0o777).toBe(0o600);
    const second = await resolveSessionSecret({ dataDir });
    expect(second).toMatchObject({ origin: "file", secret: first.secret });
    expect((await readFile(join(dataDir, "session-secret"), "utf8")).trim()).toBe(first.secret);
    const configured = await resolveSessionSecret({ dataDir, sessionSecret: "configured-secret-0123" });
    expect(configured).toEqual({ origin: "config", secret: "configured-secret-0123" });
  });
});

describe("loadConfigFromProcess", () => {
  it("takes the process as a parameter", () => {
    const { config } = loadConfigFromProcess({
      argv: ["node", "server.js", "--port", "8123"],
      env: { CODEX_IMG_LOG_LEVEL: "debug" },
      cwd: () => cwd,
    });
    expect(config.port).toBe(8123);
    expect(config.logLevel).toBe("debug");
  });
});

describe("docs/configuration.md", () => {
  it("documents every setting with its flag, variables and default", async () => {
    const doc = await readFile(new URL("../../../docs/configuration.md", import.meta.url), "utf8");
    const rows = new Map<string, string>();
    for (const line of doc.split("\n")) {
      const match = /^\| `([A-Za-z]+)` \|/.exec(line);
      if (match?.[1]) rows.set(match[1], line);
    }
    expect([...rows.keys()].sort()).toEqual([...SETTING_KEYS].sort());
    for (const key of SETTING_KEYS) {
      const row = rows.get(key) as string;
      const setting = SETTINGS[key];
      for (const name of [`--${setting.flag}`, setting.env, ...setting.legacyEnv]) {
        expect(row, `${key} row names ${name}`).toContain(`\`${name}\``);
      }
      expect(row, `${key} row states its default`).toContain(setting.defaultText);
      if ("unit" in setting && setting.unit) expect(row, `${key} unit`).toContain(setting.unit);
    }
  });
});
