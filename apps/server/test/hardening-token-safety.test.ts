import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CodexHomeFixture,
  createCodexHome,
  type FakeCodexBackend,
  startFakeCodexBackend,
} from "@codex-img/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKeys,
  type HardeningServer,
  imageReply,
  settleJobs,
  startHardeningServer,
  submitJob,
} from "./support/hardening.js";

/**
 * Two server processes share ONE Codex home under load, with an access token that expires within
 * minutes (both must refresh it) and a backend that only accepts the newest issued token. Refresh tokens
 * are single-use: the fake token endpoint records any reuse, and the refresh must happen once, not once
 * per process or per request.
 */
describe("hardening: two processes sharing one Codex home", () => {
  let dir: string;
  let upstream: FakeCodexBackend;
  let login: CodexHomeFixture;
  const servers: Array<{ server: HardeningServer; key: string }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "codex-img-tokens-"));
    upstream = await startFakeCodexBackend({
      auth: "issued",
      tokenEndpoint: { acceptUnknownTokens: false, accessTokenExpiresInSeconds: 3600 },
      defaults: { images: { kind: "custom", handle: imageReply(100) } },
    });
    // Expires in 2 minutes: inside the 5-minute refresh margin, so the first use refreshes it.
    login = await createCodexHome({ email: "shared@example.com", accessTokenExpiresInSeconds: 120 });
    upstream.tokens.trust(login.refreshToken, { accountId: login.accountId, email: "shared@example.com" });
    // A slow token endpoint widens the window in which a second refresher could slip in.
    upstream.tokens.script({ delayMs: 400 }, { delayMs: 400 }, { delayMs: 400 });
    for (const name of ["one", "two"]) {
      const dataDir = join(dir, name);
      const [key = ""] = await createKeys(dataDir, [{ name, scopes: ["generate", "jobs:read"] }]);
      const server = await startHardeningServer({
        dataDir,
        cwd: dir,
        homes: { shared: login.home },
        codexBaseUrl: upstream.baseUrl,
        tokenUrl: upstream.tokenUrl,
        args: ["--worker-concurrency", "6", "--queue-max-size", "200"],
      });
      servers.push({ server, key });
    }
  }, 60_000);

  afterAll(async () => {
    for (const { server } of servers) await server.kill();
    await upstream?.close();
    await login?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("refreshes once across both processes, never reuses a refresh token, and every job succeeds", async () => {
    const submitted = await Promise.all(
      servers.flatMap(({ server, key }, s) =>
        Array.from({ length: 15 }, async (_, i) => {
          const reply = await submitJob(server.url, key, { prompt: `shared ${s}-${i}` });
          expect(reply.status, JSON.stringify(reply.body)).toBe(202);
          return { server, key, id: String(reply.body.id) };
        }),
      ),
    );
    for (const { server, key } of servers) {
      const ids = submitted.filter((s) => s.server === server).map((s) => s.id);
      const views = await settleJobs(server.url, key, ids, 30_000);
      const outcome = [...views.values()].map((v) =>
        `${v.status} ${v.error_code ?? ""} ${v.error ?? ""}`.trim(),
      );
      expect(outcome).toEqual(ids.map(() => "succeeded"));
    }
    expect(upstream.tokens.reuses).toEqual([]);
    expect(upstream.tokens.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(upstream.tokens.refreshes).toBe(1);
    // The load really went through the backend.
    const imageCalls = upstream.requests.filter((r) => r.url.endsWith("/images/generations"));
    expect(imageCalls.length).toBeGreaterThanOrEqual(30);
  }, 60_000);
});
