import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { sniffImage } from "@codex-img/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUN, ROOT, runProcess, type ServerProcess, startServerProcess } from "./support/server-process.js";

/**
 * What `bun run release` packs, installed the way the README tells a user to: plain `npm install -g
 * --prefix` of the client's tarball (the engine travels inside it), then run on Node with no Bun on PATH.
 * One release build for the whole file.
 */
describe("release tarballs installed with npm on Node", () => {
  let scratch: string;
  let prefix: string;
  let release: string;
  let server: ServerProcess;
  // Node's own folder only: `codex-img` must not need Bun, a checkout or anything else of the developer's.
  let path: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "codex-img-release-npm-"));
    release = join(scratch, "release");
    prefix = join(scratch, "prefix");
    path = `${join(prefix, "bin")}:${dirname(process.execPath)}`;
    const built = await runProcess(BUN, ["scripts/release.ts", "--only", "packages", "--out", release], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? scratch },
      timeoutMs: 240_000,
    });
    expect(built.code, built.stderr + built.stdout).toBe(0);
    // npm itself runs with the developer's (or CI's) settings: registry, certificates, cache.
    const npmEnv = {
      ...process.env,
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
    } as Record<string, string>;
    const global = await runProcess(
      "npm",
      ["install", "-g", "--prefix", prefix, join(release, "codex-img-client-0.1.0.tgz")],
      { cwd: scratch, env: npmEnv, timeoutMs: 180_000 },
    );
    expect(global.code, global.stderr).toBe(0);
    // Every run-time dependency supports the Node versions the package claims (engines >= 20.19).
    expect(global.stderr).not.toContain("EBADENGINE");
    // A project of a library user: the engine, and the client for its TypeScript declarations.
    const library = await runProcess(
      "npm",
      [
        "install",
        "--prefix",
        join(scratch, "app"),
        join(release, "codex-img-core-0.1.0.tgz"),
        join(release, "codex-img-client-0.1.0.tgz"),
      ],
      { cwd: scratch, env: npmEnv, timeoutMs: 180_000 },
    );
    expect(library.code, library.stderr).toBe(0);
    server = await startServerProcess();
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("the tarballs carry built code, a README and engines, and no workspace: specifier", async () => {
    const manifest = JSON.parse(
      await readFile(join(prefix, "lib/node_modules/@codex-img/client/package.json"), "utf8"),
    ) as Record<string, unknown>;
    expect(JSON.stringify(manifest)).not.toContain("workspace:");
    expect(manifest.engines).toEqual({ node: ">=20.19" });
    expect(JSON.stringify(manifest.exports)).not.toContain("src/");
    const readme = await readFile(join(prefix, "lib/node_modules/@codex-img/client/README.md"), "utf8");
    expect(readme).toContain("codex-img generate");
  });

  it("codex-img --version runs on Node alone", async () => {
    const run = await runProcess("codex-img", ["--version"], { cwd: scratch, env: { PATH: path } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe("0.1.0");
  });

  it("codex-img generate saves into the current folder against the running server", async () => {
    const work = join(scratch, "work");
    await mkdir(work, { recursive: true });
    const run = await runProcess("codex-img", ["generate", "a lighthouse at dawn", "-o", "lighthouse.png"], {
      cwd: work,
      env: { PATH: path, HOME: scratch, CODEX_IMG_BASE_URL: server.url, CODEX_IMG_API_KEY: server.key },
      timeoutMs: 60_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("lighthouse.png\n");
    const bytes = await readFile(join(work, "lighthouse.png"));
    expect(sniffImage(new Uint8Array(bytes))?.format).toBe("png");
  });

  it("a Node script imports @codex-img/core from the installed tarball", async () => {
    const script = join(scratch, "app", "draw.mjs");
    await writeFile(
      script,
      [
        'import { createDemoBackend, sniffImage } from "@codex-img/core";',
        'const result = await createDemoBackend().generate({ prompt: "a fox", size: "1024x1024" }, {});',
        "const image = result.images[0];",
        "console.log(result.backend, sniffImage(image.bytes).format, image.width);",
      ].join("\n"),
    );
    const run = await runProcess(process.execPath, [script], {
      cwd: join(scratch, "app"),
      env: { PATH: path },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe("demo png 1024");
  });

  it("TypeScript checks a program against the installed client's types, strictly and with its libraries", async () => {
    const app = join(scratch, "app");
    await writeFile(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          target: "es2022",
          // tRPC's declarations name `Disposable`; the engine's name Node's `Buffer`, as a Node project
          // has them (the checkout's @types/node stands in for the user's own).
          lib: ["esnext", "dom"],
          module: "nodenext",
          moduleResolution: "nodenext",
          typeRoots: [join(ROOT, "node_modules/@types")],
          types: ["node"],
        },
        files: ["client.mts"],
      }),
    );
    // The first function is correct use; each line of the second is one mistake that real types catch
    // and `any` would let through.
    const source = [
      'import { createClient, type JobView } from "@codex-img/client";',
      'const client = createClient({ baseUrl: "http://127.0.0.1:1", apiKey: "cimg_example" });',
      "export async function draw(): Promise<string[]> {",
      '  const job: JobView = await client.generate({ prompt: "a fox", size: "1024x1024" });',
      "  const page = await client.trpc.jobs.list.query({ limit: 5 });",
      "  return [job.status, ...job.images.map((image) => image.url), ...page.items.map((item) => item.id)];",
      "}",
      "export async function mistakes(): Promise<void> {",
      '  const job = await client.generate({ prompt: "a fox" });',
      "  job.imageUrls;",
      "  await client.trpc.jobs.list.query({ limits: 5 });",
      "}",
    ];
    await writeFile(join(app, "client.mts"), source.join("\n"));
    // One `tsc` run covers both halves: a few seconds of CPU, most of it tRPC's and the DOM's declarations.
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const run = await runProcess(process.execPath, [tsc, "-p", "tsconfig.json", "--pretty", "false"], {
      cwd: app,
      env: { PATH: path },
      timeoutMs: 120_000,
    });
    // Exactly the two mistakes, each on its line and naming the client's own types: no error in a
    // declaration file (an import the tarball lacks), no silent `any`.
    const errors = run.stdout.trim().split("\n");
    expect(errors, run.stdout + run.stderr).toHaveLength(2);
    expect(errors[0]).toMatch(
      /^client\.mts\(10,7\): error TS\d+: Property 'imageUrls' does not exist on type 'JobView'/,
    );
    expect(errors[1]).toMatch(
      /^client\.mts\(11,39\): error TS\d+: .*'limits' does not exist in type '\{ cursor\?/,
    );
    expect(run.code).toBe(2);
  }, 120_000);
});
