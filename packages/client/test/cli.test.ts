import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sniffImage } from "@codex-img/core";
import {
  type CodexHomeFixture,
  createCodexHome,
  type FakeCodexBackend,
  startFakeCodexBackend,
  testPng,
} from "@codex-img/core/testing";
import { fakeUpstreamArgs } from "@codex-img/server/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  BUN,
  closedPortUrl,
  ROOT,
  runCliProcess,
  runProcess,
  type ServerProcess,
  startServerProcess,
} from "./support/server-process.js";

const ADMIN_PASSWORD = "correct horse battery staple";

/**
 * The command line as users and agents run it: a real `codex-img` process (from source) with a temp HOME
 * and workspace, against a real server process on loopback whose Codex account is the fake upstream.
 */
describe("codex-img CLI end to end", () => {
  let upstream: FakeCodexBackend;
  let login: CodexHomeFixture;
  let server: ServerProcess;
  let scratch: string;
  let home: string;
  let work: string;

  beforeAll(async () => {
    upstream = await startFakeCodexBackend();
    login = await createCodexHome({ email: "owner@example.com", plan: "plus" });
    server = await startServerProcess({
      args: fakeUpstreamArgs(upstream),
      env: { CODEX_HOMES: `main=${login.home}`, ADMIN_PASSWORD },
    });
    scratch = await mkdtemp(join(tmpdir(), "codex-img-cli-"));
  }, 40_000);

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
    await login?.cleanup();
    await rm(scratch, { recursive: true, force: true });
  });

  let counter = 0;
  beforeEach(async () => {
    home = join(scratch, `home-${++counter}`);
    work = join(scratch, `work-${counter}`);
    await mkdir(home, { recursive: true });
    await mkdir(work, { recursive: true });
  });

  let width = 1024;
  /**
   * The CLI as a process. Each call makes the fake deliver another size: the runner rejects an image that
   * is byte-identical to an earlier job's (a stale result), and the fake's default image never changes.
   */
  const runCli = (args: string[], options: { cwd: string; env: Record<string, string> }) => {
    upstream.defaults.images = { kind: "image", width: ++width, height: 1024 };
    return runCliProcess(args, options);
  };

  /** The CLI with HOME, the server URL and a key from the environment unless told otherwise. */
  const cli = (args: string[], env: Record<string, string> = {}, withKey = true) =>
    runCli(args, {
      cwd: work,
      env: {
        HOME: home,
        CODEX_IMG_BASE_URL: server.url,
        ...(withKey ? { CODEX_IMG_API_KEY: server.key } : {}),
        ...env,
      },
    });

  const configDir = async (mode = 0o700): Promise<string> => {
    const dir = join(home, ".config", "codex-img");
    await mkdir(dir, { recursive: true });
    await chmod(dir, mode);
    return dir;
  };

  const secretFile = async (path: string, text: string, mode = 0o600): Promise<void> => {
    await writeFile(path, text);
    await chmod(path, mode);
  };

  it("generate saves under assets/generated, prints only the path, and numbers instead of overwriting", async () => {
    const paths: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await cli(["generate", "A Red Fox!"]);
      expect(run.code, run.stderr).toBe(0);
      paths.push(run.stdout);
    }
    expect(paths).toEqual([
      "assets/generated/a-red-fox.png\n",
      "assets/generated/a-red-fox-2.png\n",
      "assets/generated/a-red-fox-3.png\n",
    ]);
    const bytes = await readFile(join(work, "assets/generated/a-red-fox-3.png"));
    expect(sniffImage(new Uint8Array(bytes))?.format).toBe("png");
    // No temporary files are left behind.
    expect((await readdir(join(work, "assets/generated"))).sort()).toEqual([
      "a-red-fox-2.png",
      "a-red-fox-3.png",
      "a-red-fox.png",
    ]);
  });

  it("progress goes to stderr as plain lines without a terminal, and --quiet silences it", async () => {
    const loud = await cli(["generate", "a quiet lake"]);
    expect(loud.stderr).toMatch(/codex-img: queued/);
    expect(loud.stderr).toMatch(/codex-img: running/);
    expect(loud.stderr).not.toContain("\u001b[");
    const quiet = await cli(["generate", "a quiet lake", "--quiet"]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    expect(quiet.stdout).toBe("assets/generated/a-quiet-lake-2.png\n");
  });

  it("-o names the file; an existing file is exit 7 unless --force, and the extension is the real format", async () => {
    const first = await cli([
      "generate",
      "a logo",
      "-o",
      "brand/logo.png",
      "--size",
      "1024x1024",
      "--quality",
      "low",
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("brand/logo.png\n");
    const before = upstream.calls.length;
    const again = await cli(["generate", "a logo", "-o", "brand/logo.png"]);
    expect(again.code).toBe(7);
    expect(again.stdout).toBe("");
    expect(again.stderr).toMatch(/exists.*--force/);
    expect(upstream.calls.length).toBe(before);
    const forced = await cli(["generate", "a logo", "-o", "brand/logo.png", "--force"]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe("brand/logo.png\n");

    const webp = await cli(["generate", "a logo", "-o", "brand/", "--format", "webp"]);
    expect(webp.code, webp.stderr).toBe(0);
    expect(webp.stdout).toMatch(/^brand\/a-logo\.(webp|png)\n$/);
    const saved = new Uint8Array(await readFile(join(work, webp.stdout.trim())));
    expect(webp.stdout.trim().endsWith(`.${sniffImage(saved)?.format}`)).toBe(true);
  });

  it("checks the output name and format before submitting: nothing is generated for a name that is taken", async () => {
    await mkdir(join(work, "out"), { recursive: true });
    await writeFile(join(work, "out/fox.png"), await testPng(64, 64));
    await writeFile(join(work, "ref.png"), await testPng(64, 64));
    const before = upstream.calls.length;
    // `-o out/fox` gets the extension of the format that comes back (PNG): out/fox.png, taken.
    const bare = await cli(["generate", "a fox", "-o", "out/fox"]);
    expect(bare.code, bare.stderr).toBe(7);
    expect(bare.stderr).toMatch(/out\/fox\.png exists/);
    // An edit through a server comes back as PNG: a .jpg name is refused, not silently renamed.
    const edit = await cli(["edit", "a fox", "-i", "ref.png", "-o", "out/fox.jpg"]);
    expect(edit.code, edit.stderr).toBe(2);
    expect(edit.stderr).toMatch(/come back as PNG/);
    const contradiction = await cli(["generate", "a fox", "-o", "out/fox2.png", "--format", "jpeg"]);
    expect(contradiction.code).toBe(2);
    expect(contradiction.stderr).toMatch(/names a png file but --format asks for jpeg/);
    expect(upstream.calls.length).toBe(before);
    // A .jpg name asks for a JPEG (which upstream delivers), so the file saved is the file named.
    upstream.defaults.images = { kind: "image", format: "jpeg", width: ++width, height: 1024 };
    const jpeg = await runCliProcess(["generate", "a fox", "-o", "out/fox.jpg", "--json", "--quiet"], {
      cwd: work,
      env: { HOME: home, CODEX_IMG_BASE_URL: server.url, CODEX_IMG_API_KEY: server.key },
    });
    expect(jpeg.code, jpeg.stderr).toBe(0);
    expect(JSON.parse(jpeg.stdout)).toMatchObject({ paths: ["out/fox.jpg"] });
    const { job_id: jobId } = JSON.parse(jpeg.stdout) as { job_id: string };
    const job = JSON.parse((await cli(["jobs", "get", jobId])).stdout) as {
      request: { output_format: string };
    };
    expect(job.request.output_format).toBe("jpeg");
  });

  it("edit takes --format (png only through a server) and gets the same default size and quality as generate", async () => {
    await writeFile(join(work, "ref.png"), await testPng(64, 64));
    const webp = await cli(["edit", "a fox", "-i", "ref.png", "--format", "webp"]);
    expect(webp.code).toBe(2);
    expect(webp.stderr).toMatch(/come back as PNG/);
    expect(webp.stderr).not.toMatch(/unknown option/);
    const png = await cli(["edit", "a fox", "-i", "ref.png", "--format", "png", "--json", "--quiet"]);
    expect(png.code, png.stderr).toBe(0);
    const generated = await cli(["generate", "a fox", "--json", "--quiet"]);
    const requestOf = async (run: { stdout: string }) => {
      const { job_id: id } = JSON.parse(run.stdout) as { job_id: string };
      return (
        JSON.parse((await cli(["jobs", "get", id])).stdout) as { request: { size: string; quality: string } }
      ).request;
    };
    const edited = await requestOf(png);
    expect(edited).toMatchObject({ size: "auto", quality: "auto" });
    expect(await requestOf(generated)).toMatchObject({ size: edited.size, quality: edited.quality });
  });

  it("`bun run cli` saves relative to the folder it is called from, not the repository's root", async () => {
    await mkdir(join(ROOT, "assets"), { recursive: true });
    const here = await mkdtemp(join(ROOT, "assets", "cli-cwd-"));
    upstream.defaults.images = { kind: "image", width: ++width, height: 1024 };
    try {
      const run = await runProcess(BUN, ["run", "cli", "--", "generate", "a caller's fox", "--quiet"], {
        cwd: here,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: home,
          CODEX_IMG_BASE_URL: server.url,
          CODEX_IMG_API_KEY: server.key,
        },
        timeoutMs: 60_000,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe("assets/generated/a-caller-s-fox.png\n");
      expect(
        sniffImage(new Uint8Array(await readFile(join(here, "assets/generated/a-caller-s-fox.png")))),
      ).toBeTruthy();
      await expect(stat(join(ROOT, "assets/generated/a-caller-s-fox.png"))).rejects.toThrow();
    } finally {
      await rm(here, { recursive: true, force: true });
    }
  });

  it("--json prints one object with paths, images and the job id", async () => {
    const run = await cli(["generate", "two foxes", "-n", "2", "--json", "--quiet"]);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as {
      paths: string[];
      images: Array<{
        path: string;
        format: string;
        width: number;
        height: number;
        bytes: number;
        url: string;
      }>;
      job_id: string;
      local: boolean;
    };
    expect(out.paths).toEqual(["assets/generated/two-foxes.png", "assets/generated/two-foxes-2.png"]);
    expect(out.images[0]).toMatchObject({ path: out.paths[0], format: "png", height: 1024 });
    expect(out.images[0]?.url).toMatch(/\/generated\/img_/);
    expect(out.job_id).toMatch(/^img_/);
    expect(out.local).toBe(false);
  });

  it("edit sends both -i images upstream and saves the result", async () => {
    await writeFile(join(work, "a.png"), await testPng(64, 64));
    await writeFile(join(work, "b.png"), await testPng(96, 64));
    const before = upstream.requests.length;
    const run = await cli(["edit", "combine them", "-i", "a.png", "-i", "b.png", "-o", "out/combined.png"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("out/combined.png\n");
    const sent = upstream.requests.slice(before).find((r) => r.url.endsWith("/images/edits"));
    expect(sent).toBeDefined();
    const images = (sent?.json as { images?: Array<{ image_url: string }> } | undefined)?.images ?? [];
    expect(images).toHaveLength(2);
    expect(images.every((image) => image.image_url.startsWith("data:image/png;base64,"))).toBe(true);
    const missing = await cli(["edit", "x", "-i", "nope.png"]);
    expect(missing.code).toBe(2);
  });

  describe("credentials", () => {
    it("a key with a line break is an authentication error (exit 3), not an unreachable server", async () => {
      const run = await cli(["generate", "a fox"], { CODEX_IMG_API_KEY: `${server.key}\nsecond line` });
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/line break/);
      expect(run.stderr).not.toMatch(/Cannot reach/);
      expect(run.stderr).not.toContain(server.key);
    });

    it("--api-key is refused with the reason, and the key is not echoed", async () => {
      const run = await cli(["generate", "x", "--api-key", "cimg_secretvalue"], {}, false);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/never put a token on a command line/);
      expect(run.stderr).not.toContain("cimg_secretvalue");
      expect(run.stderr).toMatch(/--api-key-file/);
    });

    it("--api-key-file is read (and beats the environment)", async () => {
      await secretFile(join(work, "key.txt"), `${server.key}\n`);
      const run = await cli(["generate", "from a key file", "--api-key-file", "key.txt"], {
        CODEX_IMG_API_KEY: "cimg_wrong",
      });
      expect(run.code, run.stderr).toBe(0);
      await chmod(join(work, "key.txt"), 0o644);
      const loose = await cli(
        ["generate", "from a key file", "--api-key-file", "key.txt", "--quiet"],
        {},
        false,
      );
      expect(loose.code).toBe(0);
      expect(loose.stderr).toMatch(/chmod 600/);
    });

    it("CODEX_IMG_API_KEY beats the config folder", async () => {
      const dir = await configDir();
      await secretFile(join(dir, "api-key"), "cimg_wrong_in_file");
      const run = await cli(["generate", "env key"]);
      expect(run.code, run.stderr).toBe(0);
    });

    it("~/.config/codex-img/api-key and base-url with mode 600 are used when nothing else is set", async () => {
      const dir = await configDir();
      await secretFile(join(dir, "api-key"), `${server.key}\n`);
      await writeFile(join(dir, "base-url"), `${server.url}\n`);
      const run = await runCli(["generate", "from the config folder", "--quiet"], {
        cwd: work,
        env: { HOME: home },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe("assets/generated/from-the-config-folder.png\n");
    });

    it("config.json under XDG_CONFIG_HOME works too", async () => {
      const xdg = join(home, "xdg");
      await mkdir(join(xdg, "codex-img"), { recursive: true });
      await secretFile(
        join(xdg, "codex-img", "config.json"),
        JSON.stringify({ baseUrl: server.url, apiKey: server.key }),
      );
      const run = await runCli(["generate", "xdg", "--quiet"], {
        cwd: work,
        env: { HOME: home, XDG_CONFIG_HOME: xdg },
      });
      expect(run.code, run.stderr).toBe(0);
    });

    it("a key file readable by others is refused (exit 2) with the chmod to run", async () => {
      const dir = await configDir();
      await secretFile(join(dir, "api-key"), server.key, 0o644);
      const run = await cli(["generate", "loose"], {}, false);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/Refusing to read .*api-key.*mode 644.*chmod 600/);
    });

    it("no key anywhere is exit 3 with where to put one", async () => {
      const run = await cli(["generate", "nothing"], {}, false);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/CODEX_IMG_API_KEY/);
    });
  });

  describe("exit codes", () => {
    it("a wrong key is 3", async () => {
      const run = await cli(["generate", "x"], { CODEX_IMG_API_KEY: "cimg_wrong" });
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/unauthorized|key/i);
    });

    it("an exhausted quota is 4 with the retry hint", async () => {
      const created = await cli(["keys", "create", "one a day", "--images-per-day", "1"], {
        CODEX_IMG_ADMIN_PASSWORD: ADMIN_PASSWORD,
      });
      expect(created.code, created.stderr).toBe(0);
      const limited = created.stdout.trim();
      expect(limited).toMatch(/^cimg_/);
      expect((await cli(["generate", "first", "--quiet"], { CODEX_IMG_API_KEY: limited })).code).toBe(0);
      const run = await cli(["generate", "second"], { CODEX_IMG_API_KEY: limited });
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(/images_per_day/);
      expect(run.stderr).toMatch(/Retry after \d+ s/);
    });

    it("a refused prompt is 5", async () => {
      upstream.script.images.push({
        kind: "bad_request",
        message: "Your request was rejected by the safety system.",
      });
      const run = await cli(["generate", "something refused"]);
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/rejected/);
    });

    it("a server that is down is 6", async () => {
      const run = await cli(["generate", "x"], { CODEX_IMG_BASE_URL: await closedPortUrl() });
      expect(run.code).toBe(6);
      expect(run.stderr).toMatch(/Cannot reach/);
      expect(run.stderr).toMatch(/codex-img serve/);
    });

    it("bad flags are 2, an unknown job is 1", async () => {
      expect((await cli(["generate", "x", "--size", "huge"])).code).toBe(2);
      expect((await cli(["generate", "x", "--bogus"])).code).toBe(2);
      expect((await cli(["frobnicate"])).code).toBe(2);
      expect((await cli(["jobs", "get", "img_aaaaaaaaaaaaaaaaaaaaaaaaaa"])).code).toBe(1);
    });

    it("--help lists the commands and the exit code table", async () => {
      const run = await cli(["--help"]);
      expect(run.code).toBe(0);
      for (const word of ["generate", "edit", "jobs", "keys", "accounts", "serve", "doctor", "Exit codes"]) {
        expect(run.stdout).toContain(word);
      }
      expect(run.stdout).toMatch(/7 {2}output file exists/);
    });
  });

  it("jobs list, get and cancel", async () => {
    const generated = await cli(["generate", "for the list", "--json", "--quiet"]);
    const jobId = (JSON.parse(generated.stdout) as { job_id: string }).job_id;
    const list = await cli(["jobs", "list", "--limit", "3"]);
    expect(list.code).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(new RegExp(`^${jobId}\\s+succeeded`));
    const get = await cli(["jobs", "get", jobId]);
    expect(JSON.parse(get.stdout)).toMatchObject({ id: jobId, status: "succeeded" });
    const cancel = await cli(["jobs", "cancel", jobId]);
    expect([0, 2]).toContain(cancel.code);
  });

  it("keys and accounts log in with the admin password from the environment or the config folder", async () => {
    const admin = { CODEX_IMG_ADMIN_PASSWORD: ADMIN_PASSWORD };
    const created = await cli(["keys", "create", "bot", "--scopes", "generate"], admin);
    expect(created.code, created.stderr).toBe(0);
    const raw = created.stdout.trim();
    const list = await cli(["keys", "list", "--json"], admin);
    const keys = JSON.parse(list.stdout) as Array<{ id: string; name: string; enabled: boolean }>;
    const bot = keys.find((key) => key.name === "bot");
    expect(bot?.enabled).toBe(true);
    const id = bot?.id ?? "";

    expect((await cli(["keys", "disable", id], admin)).stdout).toBe(`${id} disabled\n`);
    expect((await cli(["generate", "x"], { CODEX_IMG_API_KEY: raw })).code).toBe(3);
    expect((await cli(["keys", "enable", id], admin)).code).toBe(0);
    const rotated = await cli(["keys", "rotate", id], admin);
    expect(rotated.stdout.trim()).toMatch(/^cimg_/);
    expect(rotated.stdout.trim()).not.toBe(raw);
    expect(
      (await cli(["generate", "rotated", "--quiet"], { CODEX_IMG_API_KEY: rotated.stdout.trim() })).code,
    ).toBe(0);

    const dir = await configDir();
    await secretFile(join(dir, "admin-password"), `${ADMIN_PASSWORD}\n`);
    const accounts = await cli(["accounts"]);
    expect(accounts.code, accounts.stderr).toBe(0);
    expect(accounts.stdout).toMatch(/backend codex-http/);
    expect(accounts.stdout).toMatch(/^main\s+\S+/m);
    expect((await cli(["keys", "delete", id])).stdout).toBe(`${id} deleted\n`);

    const wrong = await cli(["keys", "list"], { CODEX_IMG_ADMIN_PASSWORD: "not the password at all" });
    expect(wrong.code).toBe(3);
    await rm(join(dir, "admin-password"));
    const none = await cli(["keys", "list"]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/never read from the command line/);
  });

  it("doctor reports the local login, the server and the key", async () => {
    const ok = await cli(["doctor", "--json"], { CODEX_HOME: login.home });
    expect(ok.code, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as {
      ok: boolean;
      logins: Array<{ state: string; email: string; token: { state: string } }>;
      server: { ok: boolean };
      key: { ok: boolean };
    };
    expect(report.ok).toBe(true);
    expect(report.logins[0]).toMatchObject({ state: "ok", email: "owner@example.com" });
    expect(report.server.ok).toBe(true);
    expect(report.key.ok).toBe(true);
    const text = await cli(["doctor"], { CODEX_HOME: login.home });
    expect(text.stdout).toMatch(/owner@example\.com/);
    expect(text.stdout).toMatch(/token expires in/);
    expect(text.stdout).toMatch(/^Server .*: ok version \S+, backend /m);
    expect(text.stdout).not.toMatch(/ok ok/);
    expect((await cli(["doctor"], { CODEX_IMG_API_KEY: "cimg_wrong" })).code).toBe(3);
    expect((await cli(["doctor"], { CODEX_IMG_BASE_URL: await closedPortUrl() })).code).toBe(6);
  });

  it("--local generates with the Codex login through core, no server", async () => {
    const env = {
      HOME: home,
      CODEX_HOME: login.home,
      CODEX_IMG_CODEX_BASE_URL: upstream.baseUrl,
      CODEX_IMG_CODEX_TOKEN_URL: upstream.tokenUrl,
    };
    const before = upstream.requests.length;
    const run = await runCli(["generate", "a local fox", "--local", "--json", "--quiet"], { cwd: work, env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      paths: ["assets/generated/a-local-fox.png"],
      local: true,
      job_id: null,
    });
    const sent = upstream.requests.slice(before).find((r) => r.url.endsWith("/images/generations"));
    expect(sent?.headers["chatgpt-account-id"]).toBe(login.accountId);

    await writeFile(join(work, "a.png"), await testPng(64, 64));
    await writeFile(join(work, "b.png"), await testPng(48, 64));
    const editBefore = upstream.requests.length;
    const edit = await runCli(["edit", "merge", "-i", "a.png", "-i", "b.png", "--local", "--quiet"], {
      cwd: work,
      env,
    });
    expect(edit.code, edit.stderr).toBe(0);
    expect(edit.stdout).toBe("assets/generated/merge.png\n");
    const edits = upstream.requests.slice(editBefore).find((r) => r.url.endsWith("/images/edits"));
    expect((edits?.json as { images?: unknown[] } | undefined)?.images).toHaveLength(2);

    const noLogin = await runCli(["generate", "x", "--local"], {
      cwd: work,
      env: { ...env, CODEX_HOME: join(home, "no-codex-here") },
    });
    expect(noLogin.code).toBe(5);
    expect(noLogin.stderr).toMatch(/codex login/);
  });

  it("Ctrl-C cancels the server's job and exits 130", async () => {
    upstream.script.images.push({ kind: "stall", afterHeaders: false });
    const child: ChildProcess = spawn(
      BUN,
      ["--conditions=source", join(ROOT, "packages/client/src/cli/main.ts"), "generate", "a stalled fox"],
      {
        cwd: work,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: home,
          CODEX_IMG_BASE_URL: server.url,
          CODEX_IMG_API_KEY: server.key,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`no progress:\n${stderr}`)), 10_000);
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/running \(sent\)/.test(stderr)) {
          clearTimeout(timer);
          ready();
        }
      });
    });
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    const jobId = /job (img_\w+) canceled/.exec(stderr)?.[1] ?? "";
    expect(jobId).toMatch(/^img_/);
    const job = await cli(["jobs", "get", jobId]);
    expect(JSON.parse(job.stdout)).toMatchObject({ status: "canceled" });
  });

  it("serve starts the server of this checkout and stops with it", async () => {
    const data = join(scratch, "serve-data");
    const child: ChildProcess = spawn(
      BUN,
      [
        "--conditions=source",
        join(ROOT, "packages/client/src/cli/main.ts"),
        "serve",
        "--port",
        "0",
        "--data-dir",
        data,
      ],
      { cwd: work, env: { PATH: process.env.PATH ?? "", HOME: home }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`serve did not start:\n${stderr}`)), 20_000);
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/listening on http/.test(stderr)) {
          clearTimeout(timer);
          ready();
        }
      });
    });
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    child.kill("SIGTERM");
    expect(await exited).not.toBeNull();
    expect((await stat(join(data, "codex-img.db"))).isFile()).toBe(true);
  });
});
