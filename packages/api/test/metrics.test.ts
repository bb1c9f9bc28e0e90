import { type ApiHarness, authJson, createApiHarness } from "@codex-img/api/testing";
import type { AccountPool, AccountStateView } from "@codex-img/core";
import { afterEach, describe, expect, it } from "vitest";

let harness: ApiHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Only `snapshot` is read by the metrics; the rest of the pool is not reached. */
function poolWith(views: AccountStateView[]): AccountPool {
  return { snapshot: () => views } as unknown as AccountPool;
}

describe("GET /metrics", () => {
  it("requires an admin key by default", async () => {
    harness = await createApiHarness();
    expect((await harness.app.request("/metrics")).status).toBe(401);
    const plain = await harness.createKey();
    expect((await harness.app.request("/metrics", { headers: authJson(plain) })).status).toBe(403);
  });

  it("is open with metricsPublic", async () => {
    harness = await createApiHarness({ options: { metricsPublic: true } });
    const response = await harness.app.request("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
  });

  it("counts write transactions: a job's whole life, limits and usage included, is three", async () => {
    harness = await createApiHarness();
    const { rawKey } = await harness.services.keys.create({
      name: "limited",
      scopes: ["admin"],
      limits: { requestsPerMinute: 100, imagesPerDay: 100, imagesPerMonth: 1000, maxConcurrentJobs: 4 },
    });
    const writes = async (): Promise<number> => {
      const text = await (await harness?.app.request("/metrics", { headers: authJson(rawKey) }))?.text();
      return Number(/^codex_img_db_write_transactions_total (\d+)$/m.exec(text ?? "")?.[1]);
    };
    await writes(); // the key's first use records its last-used time (a write once a minute)
    const before = await writes();
    expect(Number.isInteger(before)).toBe(true);
    for (let i = 0; i < 2; i++) {
      const created = await harness.app.request("/v1/images/generate", {
        method: "POST",
        headers: authJson(rawKey),
        body: JSON.stringify({ prompt: `a lighthouse ${i}`, size: "256x256" }),
      });
      expect(created.status).toBe(200);
    }
    expect((await writes()) - before).toBe(6);
    // An idle queue costs reads only: recovery and an empty claim write nothing.
    await harness.services.queue.recover();
    expect(await harness.services.queue.claim("idle-worker")).toBeUndefined();
    expect((await writes()) - before).toBe(6);
  });

  it("reports requests by route pattern, jobs, images per key name and accounts, without secrets", async () => {
    const now = Date.now();
    harness = await createApiHarness({
      services: {
        pool: poolWith([
          {
            label: "work",
            state: "cooling_down",
            active: 0,
            maxConcurrency: 1,
            cooldownUntil: now + 120_000,
            quota: { observedAt: now, primary: { usedPercent: 42 }, secondary: { usedPercent: 7 } },
            remainingPercent: 58,
            consecutiveFailures: 0,
          },
        ]),
      },
    });
    const { rawKey } = await harness.services.keys.create({ name: "ci bot", scopes: ["admin"] });
    const created = await harness.app.request("/v1/images/generate", {
      method: "POST",
      headers: authJson(rawKey),
      body: JSON.stringify({ prompt: "a lighthouse", size: "256x256" }),
    });
    const { id } = (await created.json()) as { id: string };
    await harness.app.request(`/v1/images/jobs/${id}`, { headers: authJson(rawKey) });
    await harness.app.request("/v1/images/jobs/img_missing", { headers: authJson(rawKey) });
    await harness.app.request("/no/such/path/12345");

    const response = await harness.app.request("/metrics", { headers: authJson(rawKey) });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain(
      'codex_img_http_requests_total{route="/v1/images/generate",method="POST",status="200"} 1',
    );
    expect(text).toContain(
      'codex_img_http_requests_total{route="/v1/images/jobs/:id",method="GET",status="200"} 1',
    );
    expect(text).toContain('route="unmatched",method="GET",status="404"');
    expect(text).not.toContain(id);
    expect(text).not.toContain("12345");
    expect(text).toContain(
      'codex_img_http_requests_total{route="/v1/images/jobs/:id",method="GET",status="404"} 1',
    );
    // One series per route and method, whatever the status; buckets count up to the total.
    const poll = 'route="/v1/images/jobs/:id",method="GET"';
    expect(text).toContain(`codex_img_http_request_duration_seconds_count{${poll}} 2`);
    expect(text).toContain(`codex_img_http_request_duration_seconds_bucket{le="+Inf",${poll}} 2`);
    expect(text).toContain(`codex_img_http_request_duration_seconds_bucket{le="120",${poll}} 2`);
    const buckets = [
      ...text.matchAll(/^codex_img_http_request_duration_seconds_bucket\{le="[^"]+",(.*)\} (\d+)$/gm),
    ]
      .filter((match) => match[1] === poll)
      .map((match) => Number(match[2]));
    expect(buckets).toHaveLength(15);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(Number(new RegExp(`_sum\\{${poll}\\} (\\S+)`).exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toContain('codex_img_jobs{state="succeeded"} 1');
    expect(text).toContain("codex_img_queue_depth 0");
    expect(text).toContain('codex_img_jobs_finished_total{state="succeeded",backend="demo"} 1');
    expect(text).toMatch(/codex_img_upstream_seconds_count\{backend="demo"\} 1/);
    expect(text).toContain('codex_img_upstream_seconds_bucket{backend="demo",le="+Inf"} 1');
    expect(text).toContain('codex_img_key_images_total{key_name="ci bot"} 1');
    expect(text).toContain('codex_img_account_quota_used_percent{account="work",window="primary"} 42');
    expect(text).toContain('codex_img_account_state{account="work",state="cooling_down"} 1');
    expect(text).toContain('codex_img_account_state{account="work",state="available"} 0');
    expect(text).toMatch(/codex_img_account_cooldown_seconds\{account="work"\} 1[01]\d/);
    // Secrets and their hashes never become labels.
    expect(text).not.toContain(rawKey);
    expect(text).not.toContain("cimg_");
  });

  it("keeps one registry per app: two apps in one process count separately", async () => {
    harness = await createApiHarness({ options: { metricsPublic: true } });
    const second = await createApiHarness({ options: { metricsPublic: true } });
    try {
      await harness.app.request("/health");
      const text = await (await second.app.request("/metrics")).text();
      expect(text).not.toContain('route="/health"');
    } finally {
      await second.close();
    }
  });
});
