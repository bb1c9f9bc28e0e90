import { homedir } from "node:os";
import { basename, join } from "node:path";
import { CODEX_CLI_VERSION } from "../backends/codex-http/constants.js";
import {
  type CodexHttpBackendOptions,
  createCodexHttpBackend,
} from "../backends/codex-http/create-codex-http-backend.js";
import { createDemoBackend } from "../backends/demo.js";
import { isCodexImgError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { BackendAccount, ImageBackend } from "../types.js";
import { readCodexLogin } from "./codex-home.js";
import { createCodexHomeCredentials } from "./codex-home-credentials.js";
import { detectCodexOsInfo } from "./codex-version.js";
import { createExactFetch } from "./exact-fetch.js";

export type LocalBackendChoice = "auto" | "codex-http" | "demo";

export interface LocalBackendOptions {
  /** The Codex home holding auth.json. Default `~/.codex` (pass `process.env.CODEX_HOME` to honour it). */
  codexHome?: string;
  /** `auto` (default): the Codex login when it is usable, else the demo backend with a notice. */
  backend?: LocalBackendChoice;
  /** Token endpoint override (tests point it at a loopback fake). */
  tokenUrl?: string;
  /** Passed to `createCodexHttpBackend` (base URL, timeouts, …). */
  codexHttp?: Omit<CodexHttpBackendOptions, "logger">;
  logger?: Logger;
}

export interface LocalBackend {
  backend: ImageBackend;
  /** Pass to `generate(request, { account })`; absent for the demo backend. */
  account?: BackendAccount;
  /** Something the user should read (for example why the demo backend is in use). */
  notice?: string;
}

/**
 * The few-lines path for library users: this machine's Codex login over HTTP, or the demo backend when
 * there is no usable login (unless `backend: "codex-http"` insists, which then throws `login_required`).
 */
export async function createLocalBackend(options: LocalBackendOptions = {}): Promise<LocalBackend> {
  const home = options.codexHome ?? join(homedir(), ".codex");
  const choice = options.backend ?? "auto";
  if (choice === "demo") return { backend: createDemoBackend() };
  try {
    await readCodexLogin(home);
  } catch (error) {
    if (choice === "codex-http" || !isCodexImgError(error, "login_required")) throw error;
    return {
      backend: createDemoBackend(),
      notice: `No usable Codex login in ${home}: ${error.message.replace(/[.\s]+$/, "")}. Using the demo backend (placeholder images).`,
    };
  }
  const label = basename(home) || "default";
  // The official CLI's identity and exact headers for every request, the refresh included.
  const client = {
    version: options.codexHttp?.client?.version ?? CODEX_CLI_VERSION,
    osInfo: options.codexHttp?.client?.osInfo ?? detectCodexOsInfo(),
  };
  const fetch = options.codexHttp?.fetch ?? createExactFetch();
  const credentials = createCodexHomeCredentials({
    home,
    label,
    client,
    fetch,
    ...(options.tokenUrl ? { tokenUrl: options.tokenUrl } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const backend = createCodexHttpBackend({
    ...options.codexHttp,
    client,
    fetch,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { backend, account: { label, credentials, codexHome: home } };
}
