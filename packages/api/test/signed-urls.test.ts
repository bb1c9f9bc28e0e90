import { type ApiHarness, authJson, createApiHarness, TEST_BASE_URL } from "@codex-img/api/testing";
import { type Clock, systemClock } from "@codex-img/core";
import { afterEach, describe, expect, it } from "vitest";
import { createUrlSigner } from "../src/services/signed-urls.js";

const SECRET = "a-test-secret-of-enough-length";
let harness: ApiHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A clock the test can move forward, for the `/generated` check only (the runner keeps real time). */
function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => systemClock.now() + offset,
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
    advance: (ms) => {
      offset += ms;
    },
  };
}

async function generate(h: ApiHarness): Promise<{ id: string; url: string; expires_at: string }> {
  const key = await h.createKey();
  const response = await h.app.request("/v1/images/generate", {
    method: "POST",
    headers: authJson(key),
    body: JSON.stringify({ prompt: "a lighthouse", size: "256x256" }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { id: string; images: Array<{ url: string; expires_at: string }> };
  const image = body.images[0];
  if (!image) throw new Error("no image");
  return { id: body.id, ...image };
}

const local = (url: string): string => url.slice(TEST_BASE_URL.length);

describe("signer", () => {
  it("verifies its own signatures and nothing else", async () => {
    const signer = createUrlSigner(SECRET);
    const sig = await signer.sign("img_abc.png", 1_900_000_000);
    expect(sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await signer.verify("img_abc.png", 1_900_000_000, sig)).toBe(true);
    expect(await signer.verify("img_abd.png", 1_900_000_000, sig)).toBe(false);
    expect(await signer.verify("img_abc.png", 1_900_000_001, sig)).toBe(false);
    expect(await createUrlSigner(`${SECRET}x`).verify("img_abc.png", 1_900_000_000, sig)).toBe(false);
    for (const junk of ["", "a", "%%%", "A".repeat(500), `${sig}A`]) {
      expect(await signer.verify("img_abc.png", 1_900_000_000, junk)).toBe(false);
    }
  });

  it("refuses short secrets, and createApi refuses signed URLs without one", async () => {
    expect(() => createUrlSigner("short")).toThrow();
    await expect(createApiHarness({ options: { signedUrls: true } })).rejects.toThrow(/urlSigningSecret/);
  });
});

describe("plain image URLs", () => {
  it("serve until the job's expiry, then 404 before any sweep runs", async () => {
    const clock = movableClock();
    harness = await createApiHarness({ services: { clock }, options: { imageRetentionMs: 60_000 } });
    const image = await generate(harness);
    expect(image.url).not.toContain("sig=");
    const ok = await harness.app.request(local(image.url));
    expect(ok.status).toBe(200);
    const maxAge = Number(/max-age=(\d+)/.exec(ok.headers.get("cache-control") ?? "")?.[1]);
    expect(maxAge).toBeLessThanOrEqual(60);
    clock.advance(61_000);
    const gone = await harness.app.request(local(image.url));
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { code: string; reason: string } }).error).toMatchObject({
      code: "not_found",
      reason: "expired",
    });
  });

  it("404 for a well-formed key that no job produced, even if the file exists", async () => {
    harness = await createApiHarness();
    const stored = await harness.services.images.put(new Uint8Array([1, 2, 3]), { format: "png" });
    const response = await harness.app.request(`/generated/${stored.key}`);
    expect(response.status).toBe(404);
  });
});

describe("signed image URLs", () => {
  it("carry expires and sig, serve when intact, refuse unsigned, tampered and expired", async () => {
    const clock = movableClock();
    harness = await createApiHarness({
      services: { clock },
      options: { signedUrls: true, urlSigningSecret: SECRET, imageRetentionMs: 3_600_000 },
    });
    const image = await generate(harness);
    const url = new URL(image.url);
    const expires = Number(url.searchParams.get("expires"));
    expect(expires).toBe(Math.floor(Date.parse(image.expires_at) / 1000));
    expect(url.searchParams.get("sig")).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const ok = await harness.app.request(local(image.url));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toContain("private");

    const path = url.pathname;
    const sig = url.searchParams.get("sig") ?? "";
    const flipped = `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
    for (const bad of [
      path,
      `${path}?expires=${expires}`,
      `${path}?sig=${sig}`,
      `${path}?expires=${expires + 1}&sig=${sig}`,
      `${path}?expires=${expires}&sig=${flipped}`,
      `${path}?expires=abc&sig=${sig}`,
    ]) {
      const response = await harness.app.request(bad);
      expect(response.status, bad).toBe(403);
      expect(((await response.json()) as { error: { reason: string } }).error.reason).toBe(
        "invalid_signature",
      );
    }

    clock.advance(3_601_000);
    const expired = await harness.app.request(local(image.url));
    expect(expired.status).toBe(404);
  });

  it("the job views and events use signed URLs too", async () => {
    harness = await createApiHarness({ options: { signedUrls: true, urlSigningSecret: SECRET } });
    const key = await harness.createKey();
    const image = await generate(harness);
    const job = await harness.app.request(`/v1/images/jobs/${image.id}`, { headers: authJson(key) });
    // Another key's job is invisible without jobs:read; createKey grants it by default.
    const body = (await job.json()) as { images: Array<{ url: string }> };
    const viewUrl = body.images[0]?.url ?? "";
    expect(viewUrl).toContain("sig=");
    expect((await harness.app.request(local(viewUrl))).status).toBe(200);
  });
});
