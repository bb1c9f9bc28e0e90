import { type ChildProcess, spawn } from "node:child_process";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { type RecordedRequest, sendJson, testImage } from "@codex-img/core/testing";
import { createDb, createKeyStore, type KeyLimits } from "@codex-img/db";
import { REPO_ROOT } from "@codex-img/server/testing";

/** A server process started on a data folder that may already hold keys (so no first key is printed). */
export interface HardeningServer {
  child: ChildProcess;
  url: string;
  stderr(): string;
  stdout(): string;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export interface ServerLaunch {
  dataDir: string;
  /** `label=folder` pairs, as CODEX_HOMES takes them. */
  homes: Record<string, string>;
  codexBaseUrl?: string;
  tokenUrl?: string;
  args?: readonly string[];
  /** HOME and working folder of the process. */
  cwd: string;
}

/** Starts `apps/server/src/main.ts` under Bun on the sources and resolves once it listens. */
export function startHardeningServer(launch: ServerLaunch): Promise<HardeningServer> {
  const child = spawn(
    join(REPO_ROOT, "node_modules/.bin/bun"),
    [
      "--conditions=source",
      join(REPO_ROOT, "apps/server/src/main.ts"),
      "--port",
      "0",
      "--data-dir",
      launch.dataDir,
      ...(launch.codexBaseUrl ? ["--codex-base-url", launch.codexBaseUrl] : []),
      ...(launch.tokenUrl ? ["--refresh-token-url", launch.tokenUrl] : []),
      "--log-level",
      "warn",
      ...(launch.args ?? []),
    ],
    {
      cwd: launch.cwd,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: launch.cwd,
        CODEX_HOMES: Object.entries(launch.homes)
          .map(([label, home]) => `${label}=${home}`)
          .join(":"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  let stdout = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${stderr}`)), 30_000);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${stderr}`));
    };
    child.once("exit", onExit);
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const listening = /listening on (http:\/\/\S+)/.exec(stderr);
      if (!listening?.[1]) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      ready({
        child,
        url: listening[1],
        stderr: () => stderr,
        stdout: () => stdout,
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          await exited;
        },
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          await exited;
          return child.exitCode;
        },
      });
    });
  });
}

export function databaseUrl(dataDir: string): string {
  return `file:${join(dataDir, "codex-img.db")}`;
}

/** Creates keys straight in the data folder's database (before the server starts); returns the raw keys. */
export async function createKeys(
  dataDir: string,
  keys: ReadonlyArray<{
    name: string;
    scopes: Array<"generate" | "edit" | "jobs:read" | "admin">;
    limits?: Partial<KeyLimits>;
  }>,
): Promise<string[]> {
  const database = await createDb({ url: databaseUrl(dataDir) });
  try {
    const store = createKeyStore(database);
    const raw: string[] = [];
    for (const key of keys) raw.push((await store.create(key)).rawKey);
    return raw;
  } finally {
    database.close();
  }
}

export interface JobView {
  id: string;
  status: string;
  images: Array<{ url: string }>;
  error: string | null;
  error_code: string | null;
}

const TERMINAL = new Set(["succeeded", "failed", "canceled", "expired"]);

/** `POST /v1/images/jobs`; the status and the parsed body. */
export async function submitJob(
  url: string,
  key: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const reply = await fetch(`${url}/v1/images/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
}

export async function getJob(url: string, key: string, id: string): Promise<JobView> {
  const reply = await fetch(`${url}/v1/images/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } });
  if (reply.status !== 200) throw new Error(`GET job ${id}: ${reply.status} ${await reply.text()}`);
  return (await reply.json()) as JobView;
}

/** Polls every job until each is in a final state or the deadline passes; returns the last views. */
export async function settleJobs(
  url: string,
  key: string,
  ids: readonly string[],
  timeoutMs: number,
): Promise<Map<string, JobView>> {
  const views = new Map<string, JobView>();
  const deadline = Date.now() + timeoutMs;
  let pending = [...ids];
  while (pending.length > 0) {
    const fresh = await Promise.all(pending.map((id) => getJob(url, key, id)));
    for (const view of fresh) views.set(view.id, view);
    pending = fresh.filter((view) => !TERMINAL.has(view.status)).map((view) => view.id);
    if (pending.length === 0 || Date.now() > deadline) break;
    await sleep(250);
  }
  return views;
}

export interface AccountMetrics {
  state: Record<string, string>;
  cooldownSeconds: Record<string, number>;
}

/** Each account's state and cooldown, read from `/metrics` with an admin key. */
export async function accountMetrics(url: string, adminKey: string): Promise<AccountMetrics> {
  const reply = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } });
  if (reply.status !== 200) throw new Error(`GET /metrics: ${reply.status} ${await reply.text()}`);
  const text = await reply.text();
  const state: Record<string, string> = {};
  const cooldownSeconds: Record<string, number> = {};
  for (const match of text.matchAll(/^codex_img_account_state\{account="([^"]+)",state="([^"]+)"\} 1$/gm)) {
    state[match[1] as string] = match[2] as string;
  }
  for (const match of text.matchAll(/^codex_img_account_cooldown_seconds\{account="([^"]+)"\} (\S+)$/gm)) {
    cooldownSeconds[match[1] as string] = Number(match[2]);
  }
  return { state, cooldownSeconds };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let imageSeed = 0;

/**
 * A native-route image reply with distinct bytes every time (identical bytes for different jobs would
 * rightly be flagged as a stale result), after `delayMs`.
 */
export function imageReply(delayMs = 0): (request: RecordedRequest, res: ServerResponse) => Promise<void> {
  return async (_request, res) => {
    if (delayMs > 0) await sleep(delayMs);
    imageSeed += 1;
    const bytes = await testImage("png", 64, 64, imageSeed);
    if (res.destroyed) return;
    sendJson(res, 200, {
      created: Math.floor(Date.now() / 1000),
      data: [{ b64_json: Buffer.from(bytes).toString("base64") }],
      output_format: "png",
      quality: "medium",
      size: "64x64",
    });
  };
}
