import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CODEX_CLI_VERSION,
  detectCodexOsInfo,
  newerLocalCodexVersion,
  readLocalCodexVersions,
} from "@codex-img/core";
import { createCodexHome } from "@codex-img/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("local Codex version lookup", () => {
  let dir: string;
  let fakeCodex: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-version-"));
    fakeCodex = join(dir, "codex");
    // Prints its version and dumps the environment it was given.
    await writeFile(fakeCodex, `#!/bin/sh\nenv > "${join(dir, "env.txt")}"\necho 'codex-cli 0.175.3'\n`);
    await chmod(fakeCodex, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads `codex --version` and version.json; a newer one than the impersonated version is reported", async () => {
    const home = await createCodexHome({
      files: { "version.json": JSON.stringify({ latest_version: "0.180.0" }) },
    });
    try {
      const found = await readLocalCodexVersions({ codexHome: home.home, executable: fakeCodex });
      expect(found).toEqual({ installed: "0.175.3", versionJsonLatest: "0.180.0" });
      expect(newerLocalCodexVersion(CODEX_CLI_VERSION, found)).toBe("0.180.0");
      expect(newerLocalCodexVersion("0.181.0", found)).toBeUndefined();
    } finally {
      await home.cleanup();
    }
  });

  it("runs the `codex --version` probe with a clean environment: no secret of the parent", async () => {
    await readLocalCodexVersions({
      codexHome: join(dir, "nope"),
      executable: fakeCodex,
      parentEnv: {
        PATH: process.env.PATH,
        HOME: "/home/x",
        ADMIN_PASSWORD: "hunter2-secret",
        OPENAI_API_KEY: "sk-x",
      },
    });
    const env = await readFile(join(dir, "env.txt"), "utf8");
    expect(env).toContain("HOME=/home/x");
    expect(env).not.toContain("hunter2-secret");
    expect(env).not.toContain("OPENAI_API_KEY");
  });

  it("ignores a missing executable and a missing version.json", async () => {
    const missing = { codexHome: join(dir, "nope"), executable: join(dir, "no-codex") };
    expect(await readLocalCodexVersions(missing)).toEqual({});
  });

  it("names the OS by its release, as the official client does (Debian 12.0.0, not the kernel)", () => {
    const info = detectCodexOsInfo("xterm", 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n');
    expect(info.terminal).toBe("xterm");
    if (info.os !== "Mac OS" && info.os !== "Windows") {
      expect(info).toMatchObject({ os: "Debian", osVersion: "12.0.0" });
      expect(detectCodexOsInfo("xterm", 'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\n')).toMatchObject({
        os: "Ubuntu",
        osVersion: "22.4.0",
      });
    }
    expect(["x86_64", "aarch64", "arm64"]).toContain(info.arch);
  });
});
