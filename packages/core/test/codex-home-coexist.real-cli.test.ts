import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCodexHomeCredentials, createCodexHttpBackend, createExactFetch } from "@codex-img/core";
import {
  createCodexHome,
  FAKE_CA_CERT_PATH,
  type FakeCodexBackend,
  startFakeCodexBackend,
} from "@codex-img/core/testing";
import { expect, it } from "vitest";
import { TEST_CLIENT } from "./support/codex-http-fixtures.js";

const REAL_CODEX_PATH = createRequire(import.meta.url).resolve("@openai/codex/bin/codex.js");

/**
 * The official CLI and codex-img on one Codex home, both holding an expired token. The CLI does not take
 * codex-img's lock, so both spend the same refresh token: the fake answers the later spend
 * `refresh_token_reused`, as OpenAI does. codex-img must then re-read auth.json, adopt the tokens the CLI
 * wrote, and carry on, without declaring the login dead.
 */
it("codex-img and the real codex CLI refresh one home at the same time; the reused spend is recovered", async () => {
  const fake = await startFakeCodexBackend({ tls: true, auth: "issued" });
  const home = await createCodexHome({ plan: "plus", accessTokenExpiresInSeconds: -60 });
  const workRoot = await mkdtemp(join(tmpdir(), "codex-coexist-"));
  try {
    const fetch = createExactFetch({ ca: readFileSync(FAKE_CA_CERT_PATH) });
    const credentials = createCodexHomeCredentials({
      home: home.home,
      tokenUrl: fake.tokenUrl,
      client: TEST_CLIENT,
      fetch,
    });
    const ours = createCodexHttpBackend({ baseUrl: fake.baseUrl, client: TEST_CLIENT, fetch });

    // Our refresh reaches the endpoint first and is held there while the CLI spends the same token.
    fake.tokens.script({ delayMs: 4_000 });
    const ourRun = ours.generate({ prompt: "ours" }, { account: { label: "shared", credentials } });
    for (let i = 0; i < 100 && !fake.requests.some((r) => r.url === "/oauth/token"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The user's own `codex exec`, started by hand: it takes none of codex-img's locks.
    const cliOutput = await runUserCli(fake, home.home, workRoot);
    const ourResult = await ourRun;

    expect(cliOutput.code).toBe(0);
    expect(fake.requests.filter((r) => r.url.endsWith("/images/generations"))).toHaveLength(2);
    expect(ourResult.images).toHaveLength(1);
    const refreshes = fake.tokens.requests.map((r) => r.status);
    // The CLI's spend (200), then ours of the same token, refused as reused (401); nothing else.
    expect(refreshes).toEqual([200, 401]);
    expect(fake.tokens.reuses.map((r) => r.refreshToken)).toEqual([home.refreshToken]);
    const onDisk = JSON.parse(await readFile(home.authPath, "utf8")) as { tokens: { access_token: string } };
    const ourImageCall = fake.requests.filter((r) => r.url.endsWith("/images/generations")).at(-1);
    expect(ourImageCall?.headers.authorization).toBe(`Bearer ${onDisk.tokens.access_token}`);
    expect((await credentials.summary()).state).toBe("ok");
    // Both clients spoke exactly like the CLI's golden record, the refresh requests included.
    expect(fake.mismatches).toEqual([]);
  } finally {
    await fake.close();
    await home.cleanup();
    await rm(workRoot, { recursive: true, force: true });
  }
});

function runUserCli(
  fake: FakeCodexBackend,
  codexHome: string,
  cwd: string,
): Promise<{ code: number | null; output: string }> {
  const args = [
    REAL_CODEX_PATH,
    "exec",
    "--skip-git-repo-check",
    "-s",
    "read-only",
    "-C",
    cwd,
    "--json",
    "-c",
    'model_reasoning_effort="low"',
    "-c",
    `chatgpt_base_url="${fake.chatgptBaseUrl}"`,
    "-c",
    `openai_base_url="${fake.baseUrl}"`,
    "--",
    "$imagegen theirs",
  ];
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: cwd,
    TERM: "xterm",
    CODEX_HOME: codexHome,
    CODEX_CA_CERTIFICATE: FAKE_CA_CERT_PATH,
    CODEX_REFRESH_TOKEN_URL_OVERRIDE: fake.tokenUrl,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("close", (code) => resolve({ code, output }));
  });
}
