import { errorFromTrpc } from "../../errors.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT } from "../exit-codes.js";
import { adminClient, type GlobalFlags, iso, writeJson } from "./shared.js";

const SCOPES = ["generate", "edit", "vision", "jobs:read", "admin"] as const;
type Scope = (typeof SCOPES)[number];

export interface KeyCreateFlags {
  scopes?: string;
  requestsPerMinute?: string;
  imagesPerDay?: string;
  imagesPerMonth?: string;
  visionPerDay?: string;
  visionPerMonth?: string;
  maxConcurrent?: string;
  json?: boolean;
}

/** tRPC errors as ours, so they get their exit code. */
async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw errorFromTrpc(error);
  }
}

function limit(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(EXIT.usage, `${flag} must be a positive whole number.`);
  return n;
}

export async function runKeysCreate(
  ctx: CliContext,
  name: string,
  flags: KeyCreateFlags,
  global: GlobalFlags,
): Promise<void> {
  const scopes = (flags.scopes ?? "generate,edit,jobs:read").split(",").map((s) => s.trim());
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0)
    throw new CliError(EXIT.usage, `Unknown scope ${unknown.join(", ")}; use ${SCOPES.join(", ")}.`);
  const limits = {
    ...optional("requestsPerMinute", limit(flags.requestsPerMinute, "--requests-per-minute")),
    ...optional("imagesPerDay", limit(flags.imagesPerDay, "--images-per-day")),
    ...optional("imagesPerMonth", limit(flags.imagesPerMonth, "--images-per-month")),
    ...optional("visionPerDay", limit(flags.visionPerDay, "--vision-per-day")),
    ...optional("visionPerMonth", limit(flags.visionPerMonth, "--vision-per-month")),
    ...optional("maxConcurrentJobs", limit(flags.maxConcurrent, "--max-concurrent")),
  };
  const client = await adminClient(ctx, global);
  const { key, rawKey } = await call(() =>
    client.trpc.keys.create.mutate({ name, scopes: scopes as Scope[], limits }),
  );
  if (flags.json) return writeJson(ctx, { key, rawKey });
  ctx.stderr.write(`codex-img: created key "${key.name}" (${key.id}); it is shown once:\n`);
  // Only the key on stdout, so `codex-img keys create bot > ~/.config/codex-img/api-key` works.
  ctx.stdout.write(`${rawKey}\n`);
}

function optional<K extends string>(name: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [name]: value } as Record<K, number>);
}

export async function runKeysList(
  ctx: CliContext,
  flags: { json?: boolean },
  global: GlobalFlags,
): Promise<void> {
  const client = await adminClient(ctx, global);
  const keys = await call(() => client.trpc.keys.list.query());
  if (flags.json) return writeJson(ctx, keys);
  for (const key of keys) {
    ctx.stdout.write(
      `${key.id}  ${key.enabled ? "enabled " : "disabled"}  ${key.prefix}…  ${key.scopes.join(",")}  ` +
        `last used ${iso(key.lastUsedAt)}  ${key.name}\n`,
    );
  }
}

export async function runKeysSetEnabled(
  ctx: CliContext,
  id: string,
  enabled: boolean,
  global: GlobalFlags,
): Promise<void> {
  const client = await adminClient(ctx, global);
  const key = await call(() => client.trpc.keys.setEnabled.mutate({ id, enabled }));
  ctx.stdout.write(`${key.id} ${key.enabled ? "enabled" : "disabled"}\n`);
}

export async function runKeysRotate(ctx: CliContext, id: string, global: GlobalFlags): Promise<void> {
  const client = await adminClient(ctx, global);
  const { key, rawKey } = await call(() => client.trpc.keys.rotate.mutate({ id }));
  ctx.stderr.write(
    `codex-img: rotated key "${key.name}" (${key.id}); the old key stops working. New key, shown once:\n`,
  );
  ctx.stdout.write(`${rawKey}\n`);
}

export async function runKeysDelete(ctx: CliContext, id: string, global: GlobalFlags): Promise<void> {
  const client = await adminClient(ctx, global);
  await call(() => client.trpc.keys.delete.mutate({ id }));
  ctx.stdout.write(`${id} deleted\n`);
}

export async function runAccounts(
  ctx: CliContext,
  flags: { json?: boolean },
  global: GlobalFlags,
): Promise<void> {
  const client = await adminClient(ctx, global);
  const result = await call(() => client.trpc.accounts.list.query());
  if (flags.json) return writeJson(ctx, result);
  ctx.stdout.write(`backend ${result.backend}, dispatch ${result.dispatchMode}\n`);
  for (const account of result.accounts) {
    const cooldown = account.cooldownUntil ? `  cooling down until ${iso(account.cooldownUntil)}` : "";
    ctx.stdout.write(
      `${account.label}  ${account.state}  ${account.remainingPercent}% left  ` +
        `${account.activity.images} images/48h${cooldown}\n`,
    );
  }
}
