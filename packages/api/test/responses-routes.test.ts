import { type ApiHarness, authJson } from "@codex-img/api/testing";
import { describe, expect, it } from "vitest";
import { harnessPerTest } from "./support/harness-per-test.js";

const start = harnessPerTest();

function create(h: ApiHarness, key: string, body: Record<string, unknown>): Promise<Response> {
  return Promise.resolve(
    h.app.request("/v1/responses", { method: "POST", headers: authJson(key), body: JSON.stringify(body) }),
  );
}

const IMAGE_TOOL = { type: "image_generation", size: "256x256" };

describe("POST /v1/responses on the demo backend", () => {
  it("reports a quality from OpenAI's enum (the one asked for) and labels the reply demo", async () => {
    const h = await start();
    const key = await h.createKey();
    const response = await create(h, key, {
      model: "gpt-5.5",
      input: "a paper boat",
      tools: [{ ...IMAGE_TOOL, quality: "high" }],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      codex_img_demo?: boolean;
      output: Array<{ quality?: string; revised_prompt?: string }>;
    };
    expect(body.codex_img_demo).toBe(true);
    expect(body.output[0]).toMatchObject({ quality: "high", revised_prompt: "[demo] a paper boat" });

    const unset = (await (await create(h, key, { input: "a paper kite", tools: [IMAGE_TOOL] })).json()) as {
      output: Array<{ quality?: string }>;
    };
    expect(unset.output[0]?.quality).toBe("auto");
  });

  it.each([
    [
      "metadata over 16 pairs",
      { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) },
      "metadata",
    ],
    ["a metadata value over 512 characters", { metadata: { note: "x".repeat(513) } }, "metadata.note"],
    ["instructions over 32,000 characters", { instructions: "x".repeat(32_001) }, "instructions"],
    [
      "tools too large to keep with the job",
      { tools: [IMAGE_TOOL, { type: "function", name: "f", description: "x".repeat(70_000) }] },
      "tools",
    ],
    ["an input_fidelity outside low|high", { tools: [{ ...IMAGE_TOOL, input_fidelity: "max" }] }, "tools"],
  ])("refuses %s with 400 naming the field, before any job exists", async (_what, extra, param) => {
    const h = await start();
    const key = await h.createKey();
    const response = await create(h, key, { input: "a paper boat", tools: [IMAGE_TOOL], ...extra });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; param: string } };
    expect(error.code).toBe("invalid_request");
    expect(error.param.startsWith(param)).toBe(true);
    expect(await h.countJobs()).toBe(0);
  });
});
