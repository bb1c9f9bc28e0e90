import { createDemoBackend, sniffImage } from "@codex-img/core";
import { describe, expect, it } from "vitest";

describe("demo backend", () => {
  it("draws a labelled placeholder PNG of the requested size, deterministic per prompt", async () => {
    const backend = createDemoBackend();
    const events: string[] = [];
    const first = await backend.generate(
      { prompt: "a red fox", size: "1536x1024", n: 2 },
      { onEvent: (e) => events.push(e.type) },
    );
    expect(first).toMatchObject({
      backend: "demo",
      route: "demo",
      demo: true,
      requested: { size: "1536x1024", n: 2 },
    });
    expect(first.images).toHaveLength(2);
    for (const image of first.images) {
      expect(sniffImage(image.bytes)).toEqual({ format: "png", width: 1536, height: 1024 });
      expect(image.revisedPrompt).toBe("[demo] a red fox");
    }
    expect(first.images[0]?.bytes).not.toEqual(first.images[1]?.bytes);
    expect(events).toContain("progress");

    const again = await backend.generate({ prompt: "a red fox", size: "1536x1024", n: 1 });
    expect(again.images[0]?.bytes).toEqual(first.images[0]?.bytes);
    const other = await backend.generate({ prompt: "a blue whale", size: "1536x1024" });
    expect(other.images[0]?.bytes).not.toEqual(first.images[0]?.bytes);
  });

  it("scales oversized requests down and reports requested vs delivered size", async () => {
    const result = await createDemoBackend({ maxSide: 512 }).generate({ prompt: "x", size: "2048x1024" });
    expect(result.requested.size).toBe("2048x1024");
    expect(result.delivered.size).toBe("512x256");
    expect(result.images[0]).toMatchObject({ width: 512, height: 256 });
  });

  it("reports a quality from OpenAI's enum (the one asked for) and labels itself demo elsewhere", async () => {
    const asked = await createDemoBackend().generate({ prompt: "a kite", size: "64x64", quality: "high" });
    expect(asked.delivered.quality).toBe("high");
    const unset = await createDemoBackend().generate({ prompt: "a kite", size: "64x64" });
    expect(unset.delivered.quality).toBe("auto");
    expect(unset).toMatchObject({ demo: true, backend: "demo" });
    expect(unset.images[0]?.revisedPrompt).toBe("[demo] a kite");
  });

  it("refuses bad input and honours an aborted signal", async () => {
    const backend = createDemoBackend();
    await expect(backend.generate({ prompt: "" })).rejects.toMatchObject({ code: "invalid_request" });
    await expect(backend.generate({ prompt: "x" }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: "canceled",
    });
  });
});
