import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CODEX_VERSION_FLOOR,
  createCodexVersionResolver,
  detectCodexOsInfo,
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
    await writeFile(fakeCodex, "#!/bin/sh\necho 'codex-cli 0.175.3'\n");
    await chmod(fakeCodex, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads `codex --version` and version.json, and takes the largest with the floor", async () => {
    const home = await createCodexHome({
      files: { "version.json": JSON.stringify({ latest_version: "0.180.0" }) },
    });
    try {
      expect(await readLocalCodexVersions({ codexHome: home.home, executable: fakeCodex })).toEqual({
        installed: "0.175.3",
        versionJsonLatest: "0.180.0",
      });
      expect(await createCodexVersionResolver({ codexHome: home.home, executable: fakeCodex })()).toBe(
        "0.180.0",
      );
      expect(await createCodexVersionResolver({ codexHome: home.home, override: "0.1.0" })()).toBe("0.1.0");
    } finally {
      await home.cleanup();
    }
  });

  it("ignores a missing executable and a missing version.json", async () => {
    const missing = { codexHome: join(dir, "nope"), executable: join(dir, "no-codex") };
    expect(await readLocalCodexVersions(missing)).toEqual({});
    expect(await createCodexVersionResolver(missing)()).toBe(CODEX_VERSION_FLOOR);
  });

  it("names the OS the way the official client does", () => {
    const info = detectCodexOsInfo("xterm");
    expect(info.terminal).toBe("xterm");
    expect(info.os.length).toBeGreaterThan(0);
    expect(["x86_64", "arm64"]).toContain(info.arch);
  });
});
