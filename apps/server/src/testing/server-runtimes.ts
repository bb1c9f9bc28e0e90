import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./start-server-process.js";

/** A way to run the server: a name and how to get its command (file and arguments before the flags). */
export type ServerRuntime = [name: string, command: () => Promise<[string, string[]]>];

/**
 * The two ways the server runs, for tests that must hold on both: Bun on the TypeScript sources (the
 * README's start command, with its header-size flag) and Node on what `tsc -b` builds (what a deployment
 * installs).
 */
export const SERVER_RUNTIMES: ServerRuntime[] = [
  [
    "bun",
    async () => [
      join(REPO_ROOT, "node_modules/.bin/bun"),
      ["--max-http-header-size=65536", "--conditions=source", join(REPO_ROOT, "apps/server/src/main.ts")],
    ],
  ],
  [
    "node",
    async () => {
      await promisify(execFile)(process.execPath, [
        join(REPO_ROOT, "node_modules/typescript/bin/tsc"),
        "-b",
        join(REPO_ROOT, "apps/server"),
      ]);
      return [process.execPath, [join(REPO_ROOT, "apps/server/dist/main.js")]];
    },
  ],
];
