import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CliError, EXIT } from "../exit-codes.js";

/**
 * Starts the server of this checkout (apps/server) in the foreground with the given flags, stdio
 * inherited; resolves with its exit code. Bun runs the TypeScript source, Node the built `dist`.
 */
export async function runServe(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const root = new URL("../../../../../apps/server/", import.meta.url);
  const isBun = typeof (process.versions as Record<string, string | undefined>).bun === "string";
  const source = fileURLToPath(new URL("src/main.ts", root));
  const built = fileURLToPath(new URL("dist/main.js", root));
  const command =
    isBun && existsSync(source) ? ["--conditions=source", source] : existsSync(built) ? [built] : undefined;
  if (!command) {
    throw new CliError(
      EXIT.usage,
      "`serve` runs the server of a codex-img checkout (apps/server), and none was found next to this CLI. " +
        "Run it from the repository (`npx --yes bun@1.4.5 run start`), run the single-file server that " +
        "`npx --yes bun@1.4.5 run release` builds (release/codex-img-server-<target>), or use the Docker image " +
        "(docs/deployment.md).",
    );
  }
  const child = spawn(process.execPath, [...command, ...args], { stdio: "inherit", env });
  const forward = (signal: NodeJS.Signals) => (): void => {
    child.kill(signal);
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + 2 : 1)));
    });
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
