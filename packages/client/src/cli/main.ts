#!/usr/bin/env node
/**
 * The `codex-img` command line. From the repository: `bun run cli -- …` (the TypeScript source); installed:
 * the `codex-img` bin, which runs the built `dist/cli/main.js` with Node; or a release executable.
 */
import { isAbsolute } from "node:path";
import { runCli } from "./run.js";

/**
 * The folder the user called from. `bun run cli` / `npm run cli` start the script in the repository's root;
 * the caller's folder is then `INIT_CWD` (npm, npx) or `npm_config_local_prefix` (Bun). Only this
 * repository's own `cli` script is trusted with them: an installed codex-img inside someone's npm script
 * must keep the folder that script chose.
 */
function callerCwd(env: NodeJS.ProcessEnv): string {
  if (env.npm_lifecycle_event !== "cli" || env.npm_package_name !== "codex-img") return process.cwd();
  // npm's local prefix is the package root, Bun's the caller's folder; an outer npm may have left INIT_CWD.
  const from = env.npm_config_user_agent?.startsWith("bun/") ? env.npm_config_local_prefix : env.INIT_CWD;
  return from && isAbsolute(from) ? from : process.cwd();
}

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: callerCwd(process.env),
  stdout: process.stdout,
  stderr: process.stderr,
});
