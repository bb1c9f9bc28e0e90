import { createClient } from "../../client.js";
import type { AdminSession, CodexImgClient } from "../../codex-img-client.js";
import { loginAdmin } from "../../login-admin.js";
import type { CliContext } from "../context.js";
import { CliError, EXIT } from "../exit-codes.js";
import { configDir, resolveAdminPassword, resolveSettings, type Settings } from "../settings.js";

export interface GlobalFlags {
  baseUrl?: string;
  apiKeyFile?: string;
}

/** Settings with their warnings already printed. */
export async function settingsFor(
  ctx: CliContext,
  global: GlobalFlags,
  warn: (message: string) => void = (message) => ctx.stderr.write(`codex-img: ${message}\n`),
): Promise<Settings> {
  const settings = await resolveSettings(global, ctx.env, ctx.cwd);
  for (const warning of settings.warnings) warn(warning);
  return settings;
}

export function requireApiKey(settings: Settings): string {
  if (settings.apiKey) return settings.apiKey;
  throw new CliError(
    EXIT.auth,
    "No API key. Set CODEX_IMG_API_KEY, or put the key in ~/.config/codex-img/api-key (chmod 600), or " +
      "pass --api-key-file PATH. Never put a key on the command line.",
  );
}

export async function keyClient(ctx: CliContext, global: GlobalFlags): Promise<CodexImgClient> {
  const settings = await settingsFor(ctx, global);
  return createClient({ baseUrl: settings.baseUrl, apiKey: requireApiKey(settings) });
}

/** A client logged in as the admin (password from the environment or the config folder only). */
export async function adminClient(ctx: CliContext, global: GlobalFlags): Promise<CodexImgClient> {
  const settings = await settingsFor(ctx, global);
  const password = await resolveAdminPassword(ctx.env);
  let session: AdminSession;
  try {
    session = await loginAdmin({ baseUrl: settings.baseUrl, password });
  } catch (error) {
    if ((error as { code?: string }).code === "unauthorized") {
      throw new CliError(
        EXIT.auth,
        `Admin login refused: check CODEX_IMG_ADMIN_PASSWORD or ${configDir(ctx.env)}/admin-password.`,
      );
    }
    throw error;
  }
  return createClient({ baseUrl: settings.baseUrl, adminSession: session });
}

export function writeJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "-" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
