import type { Env } from "./settings.js";

/** What a command may touch of the process, passed in so tests and embedders can swap it. */
export interface CliContext {
  env: Env;
  cwd: string;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}
