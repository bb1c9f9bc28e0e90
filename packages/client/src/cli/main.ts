#!/usr/bin/env node
/**
 * The `codex-img` command line. From the repository: `bun --conditions=source packages/client/src/cli/main.ts`
 * (or `bun run cli`); installed: the `codex-img` bin, which runs the built `dist/cli/main.js` with Node.
 */
import { runCli } from "./run.js";

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
});
