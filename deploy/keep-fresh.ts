#!/usr/bin/env bun
/**
 * Weekly keep-fresh of the Codex logins the server uses (docs/deployment.md#keep-fresh).
 *
 *   bun --conditions=source deploy/keep-fresh.ts [server flags, e.g. --codex-homes a=/x:b=/y]
 *
 * Reads the same configuration as the server (flags, CODEX_IMG_* and the predecessor's names such as
 * CODEX_HOMES, the config file, defaults), then refreshes each Codex home once, one after the other,
 * through the project's own refresh: it takes `codex-img-auth.lock`, re-reads auth.json under the lock,
 * adopts tokens another process (the server, `codex`) already rotated, and writes atomically with mode
 * 0600. So it is safe to run while the server runs on the same homes. It never starts `codex`.
 *
 * Prints one line per home on stdout, never a token. Exit code: 0 every home is fresh, 1 at least one
 * home needs `codex login`, 2 configuration problem, 3 a refresh failed for another reason (network,
 * token endpoint): try again later.
 *
 * The imports are relative because the repository root has no node_modules link to the workspace
 * packages; the server's config module resolves `@codex-img/core` and zod from apps/server.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { loadConfigFromProcess } from "../apps/server/src/config/index.js";
import {
  type CodexClientIdentity,
  type CodexHomeEntry,
  createCodexHomeCredentials,
  createExactFetch,
  detectCodexOsInfo,
  isCodexImgError,
  type Logger,
  parseCodexHomes,
} from "../packages/core/src/index.js";

type Outcome = "fresh" | "login" | "failed";

async function main(): Promise<number> {
  let homes: CodexHomeEntry[];
  let tokenUrl: string;
  let client: CodexClientIdentity;
  try {
    const { config } = loadConfigFromProcess(process);
    homes = parseCodexHomes(config.codexHomes, join(homedir(), ".codex"));
    tokenUrl = config.refreshTokenUrl;
    client = { version: config.codexVersion, osInfo: detectCodexOsInfo() };
  } catch (error) {
    console.error(`keep-fresh: configuration problem: ${describe(error)}`);
    return 2;
  }

  // The same identity and exact headers as the server's refreshes: the official CLI's.
  const fetch = createExactFetch();
  const outcomes: Outcome[] = [];
  for (const { label, home } of homes) {
    console.error(`keep-fresh: refreshing ${label} (${home})…`);
    const events: string[] = [];
    const logger: Logger = {
      debug() {},
      info(message) {
        events.push(message);
      },
      warn(message) {
        events.push(message);
      },
      error(message) {
        events.push(message);
      },
    };
    const credentials = createCodexHomeCredentials({ home, label, tokenUrl, logger, client, fetch });
    try {
      await credentials.refresh();
      const status = await credentials.summary();
      const how = events.some((message) => message.includes("adopted"))
        ? "already refreshed by another process, adopted"
        : "refreshed";
      const expires = status.login?.expiresAt ? new Date(status.login.expiresAt).toISOString() : "unknown";
      const who = status.login?.email ? ` ${status.login.email}` : "";
      console.log(`ok     ${label}${who}: ${how}; access token valid until ${expires}`);
      if (events.some((message) => message.includes("could not write"))) {
        console.log(`warn   ${label}: could not write auth.json; check the folder's owner and mode`);
        outcomes.push("failed");
      } else {
        outcomes.push("fresh");
      }
    } catch (error) {
      if (isCodexImgError(error, "login_required")) {
        console.log(
          `LOGIN  ${label} (${home}): needs \`CODEX_HOME=${home} codex login\`: ${describe(error)}`,
        );
        outcomes.push("login");
      } else {
        console.log(`FAIL   ${label} (${home}): ${describe(error)}; try again later`);
        outcomes.push("failed");
      }
    }
  }
  if (outcomes.includes("login")) return 1;
  if (outcomes.includes("failed")) return 3;
  return 0;
}

function describe(error: unknown): string {
  if (isCodexImgError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`keep-fresh: ${describe(error)}`);
    process.exit(3);
  },
);
