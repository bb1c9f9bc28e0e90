import { spawnSync } from "node:child_process";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bundleTypes } from "./bundle-types.ts";

/**
 * The public packages, in dependency order. `bundled` ones travel inside the tarball of their dependent;
 * the declarations of `inlineTypes` ones are copied into the package's single `dist/index.d.ts`.
 */
export const PUBLIC_PACKAGES = [
  { dir: "packages/core", copy: ["dist"], bundled: [], inlineTypes: [] },
  // The client imports the API's types only (erased from `dist`), so `@codex-img/api` is no run-time
  // dependency; its `AppRouter` and views (and the few `@codex-img/db` records they name) are inlined into
  // the client's declarations instead. The engine travels inside the client's tarball, so installing one
  // file never asks the registry for a `@codex-img/*` name this project may not own there.
  {
    dir: "packages/client",
    copy: ["dist", "bin"],
    bundled: ["@codex-img/core"],
    inlineTypes: ["@codex-img/api", "@codex-img/db"],
  },
] as const;

interface Manifest {
  name: string;
  version: string;
  exports?: Record<string, Record<string, string>>;
  dependencies?: Record<string, string>;
  devDependencies?: unknown;
  scripts?: unknown;
  [field: string]: unknown;
}

/**
 * Writes `<name>-<version>.tgz` for each public package into `out` with `npm pack` on a staged copy: the
 * built `dist/` (no build info, no source maps pointing at an absent `src/`), a README, exports without the
 * workspace-only `source` condition, and real versions instead of `workspace:` specifiers.
 */
export async function packPackages(root: string, out: string, stage: string): Promise<string[]> {
  const versions = new Map<string, string>();
  const staged = new Map<string, string>();
  const tarballs: string[] = [];
  for (const pkg of PUBLIC_PACKAGES) {
    const source = join(root, pkg.dir);
    const manifest = JSON.parse(await readFile(join(source, "package.json"), "utf8")) as Manifest;
    versions.set(manifest.name, manifest.version);
    const dir = join(stage, manifest.name.replace("@", "").replace("/", "-"));
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const published = publishedManifest(manifest, versions, pkg);
    const inlineTypes: readonly string[] = pkg.inlineTypes;
    for (const entry of pkg.copy) {
      await cp(join(source, entry), join(dir, entry), {
        recursive: true,
        filter: (path) =>
          !path.endsWith(".tsbuildinfo") &&
          !path.endsWith(".map") &&
          // One bundled declaration file replaces the per-module ones.
          !(inlineTypes.length > 0 && path.endsWith(".d.ts")),
      });
    }
    if (inlineTypes.length > 0) {
      const types = await bundleTypes(source, inlineTypes, Object.keys(published.dependencies ?? {}));
      await writeFile(join(dir, "dist/index.d.ts"), types);
    }
    await cp(join(source, "README.md"), join(dir, "README.md"));
    for (const name of pkg.bundled) {
      const from = staged.get(name);
      if (!from) throw new Error(`${name} must be staged before ${manifest.name}`);
      await cp(from, join(dir, "node_modules", name), { recursive: true });
    }
    await writeFile(join(dir, "package.json"), `${JSON.stringify(published, null, 2)}\n`);
    staged.set(manifest.name, dir);
    const packed = spawnSync("npm", ["pack", "--silent", "--pack-destination", out], {
      cwd: dir,
      encoding: "utf8",
    });
    if (packed.status !== 0) throw new Error(`npm pack ${manifest.name} failed:\n${packed.stderr}`);
    tarballs.push(join(out, packed.stdout.trim().split("\n").at(-1) ?? ""));
  }
  return tarballs;
}

function publishedManifest(
  manifest: Manifest,
  versions: ReadonlyMap<string, string>,
  pkg: (typeof PUBLIC_PACKAGES)[number],
): Manifest {
  const { devDependencies: _dev, scripts: _scripts, ...rest } = manifest;
  const dependencies: Record<string, string> = {};
  for (const [name, spec] of Object.entries(manifest.dependencies ?? {})) {
    if (!spec.startsWith("workspace:")) dependencies[name] = spec;
    else if ((pkg.bundled as readonly string[]).includes(name))
      dependencies[name] = versions.get(name) ?? spec;
    // Any other workspace dependency is types-only (checked by the release test, which runs the package on
    // Node with nothing else installed).
  }
  const exports = Object.fromEntries(
    Object.entries(manifest.exports ?? {}).map(([path, conditions]) => {
      const { source: _source, ...published } = conditions;
      return [path, published];
    }),
  );
  return {
    ...rest,
    exports,
    files: [...pkg.copy, "README.md"],
    engines: { node: ">=20.19" },
    dependencies,
    ...(pkg.bundled.length > 0 ? { bundleDependencies: [...pkg.bundled] } : {}),
  };
}
