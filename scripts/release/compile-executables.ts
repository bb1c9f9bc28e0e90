import { spawnSync } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BunPlugin } from "bun";

/** Bun's compile targets and the libSQL native addon each one needs for the server. */
export const TARGETS = {
  "linux-x64": { libsql: "linux-x64-gnu", exe: "" },
  "linux-arm64": { libsql: "linux-arm64-gnu", exe: "" },
  "darwin-arm64": { libsql: "darwin-arm64", exe: "" },
  "windows-x64": { libsql: "win32-x64-msvc", exe: ".exe" },
} as const;
export type Target = keyof typeof TARGETS;

export interface CompileResult {
  target: Target;
  built: string[];
  /** Why an executable of this target was not built (missing runtime or native addon). */
  skipped: string[];
}

/**
 * Compiles `codex-img` (the CLI) and `codex-img-server` for one target with `bun build --compile`. Bun
 * downloads a foreign target's runtime from the npm registry (`@oven/bun-*`); the server also needs that
 * target's libSQL addon, fetched with `npm pack` when it is not installed. The server's migrations and the
 * dashboard's static export are embedded next to the bundle's entry, where the server looks for them.
 */
export async function compileExecutables(
  root: string,
  out: string,
  stage: string,
  target: Target,
): Promise<CompileResult> {
  const result: CompileResult = { target, built: [], skipped: [] };
  const { exe } = TARGETS[target];
  const cli = join(out, `codex-img-${target}${exe}`);
  const cliBuild = await build(root, {
    entry: join(root, "packages/client/src/cli/main.ts"),
    outfile: cli,
    target,
    plugins: [],
    assets: [],
    execArgv: [],
  });
  if (!cliBuild.ok) {
    result.skipped.push(`codex-img-${target}: ${cliBuild.error}`);
    return result;
  }
  result.built.push(cli);

  const addon = await libsqlAddon(root, stage, target);
  if (typeof addon !== "string") {
    result.skipped.push(`codex-img-server-${target}: ${addon.error}`);
    return result;
  }
  const assets = join(stage, "server-assets");
  await rm(assets, { recursive: true, force: true });
  await mkdir(assets, { recursive: true });
  await cp(join(root, "packages/db/migrations"), join(assets, "migrations"), { recursive: true });
  await cp(join(root, "apps/dashboard/out"), join(assets, "dashboard"), { recursive: true });
  const server = join(out, `codex-img-server-${target}${exe}`);
  const serverBuild = await build(assets, {
    entry: join(root, "apps/server/src/main.ts"),
    // The database's checkpoint thread runs from its own entry (new Worker), embedded under its path from
    // the entries' common folder (the checkout), which the server is told at build time.
    workers: [join(root, "packages/db/src/wal-checkpoint-worker.ts")],
    define: {
      "process.env.CODEX_IMG_CHECKPOINT_WORKER": JSON.stringify(
        "/$bunfs/root/packages/db/src/wal-checkpoint-worker.js",
      ),
    },
    outfile: server,
    target,
    plugins: [libsqlNativePlugin(addon)],
    assets: ["migrations", "dashboard"],
    // As `bun run start` runs it: headers up to 64 KiB reach the API, which answers its own JSON 431.
    execArgv: ["--max-http-header-size=65536"],
  });
  if (serverBuild.ok) result.built.push(server);
  else result.skipped.push(`codex-img-server-${target}: ${serverBuild.error}`);
  return result;
}

async function build(
  cwd: string,
  options: {
    entry: string;
    workers?: string[];
    define?: Record<string, string>;
    outfile: string;
    target: Target;
    plugins: BunPlugin[];
    assets: string[];
    execArgv: string[];
  },
): Promise<{ ok: true } | { ok: false; error: string }> {
  const previous = process.cwd();
  // Embedded assets keep their path relative to the working folder.
  process.chdir(cwd);
  try {
    const output = await Bun.build({
      entrypoints: [options.entry, ...(options.workers ?? [])],
      ...(options.define ? { define: options.define } : {}),
      conditions: ["source"],
      plugins: options.plugins,
      compile: {
        target: `bun-${options.target}`,
        outfile: options.outfile,
        assets: options.assets,
        execArgv: options.execArgv,
      },
      // The executables read no stray bunfig.toml, .env or tsconfig of the folder they run in.
      throw: false,
    } as Parameters<typeof Bun.build>[0]);
    if (output.success) return { ok: true };
    return { ok: false, error: output.logs.map((log) => String(log.message ?? log)).join("; ") };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    process.chdir(previous);
  }
}

/**
 * libSQL picks its addon with a computed `require(`@libsql/${target}`)`, which a bundler cannot follow;
 * this points it at the one addon file of the target, which `--compile` then embeds.
 */
function libsqlNativePlugin(addon: string): BunPlugin {
  return {
    name: "libsql-native-addon",
    setup(builder) {
      builder.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, async (args) => {
        const code = await readFile(args.path, "utf8");
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of libsql's own template literal
        const call = "require(`@libsql/${target}`)";
        if (!code.includes(call)) throw new Error("libsql's addon loader changed; update the release plugin");
        return { contents: code.replace(call, `require(${JSON.stringify(addon)})`), loader: "js" };
      });
    },
  };
}

/** The installed addon for the target, or the one `npm pack` fetches from the registry into the stage. */
async function libsqlAddon(root: string, stage: string, target: Target): Promise<string | { error: string }> {
  const name = TARGETS[target].libsql;
  const store = join(root, "node_modules/.bun");
  const installed = (await readdir(store)).find((entry) => entry.startsWith(`@libsql+${name}@`));
  if (installed) return join(store, installed, "node_modules/@libsql", name, "index.node");
  const libsql = (await readdir(store)).find((entry) => entry.startsWith("libsql@"));
  const version = libsql?.slice("libsql@".length);
  if (!version) return { error: "libsql is not installed" };
  const dir = join(stage, "addons", name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const packed = spawnSync("npm", ["pack", "--silent", `@libsql/${name}@${version}`], {
    cwd: dir,
    encoding: "utf8",
  });
  const file = packed.stdout.trim().split("\n").at(-1);
  if (packed.status !== 0 || !file)
    return { error: `npm pack @libsql/${name}@${version} failed: ${packed.stderr.trim()}` };
  const untar = spawnSync("tar", ["-xzf", file], { cwd: dir, encoding: "utf8" });
  if (untar.status !== 0) return { error: `cannot unpack ${file}: ${untar.stderr.trim()}` };
  return join(dir, "package", "index.node");
}
