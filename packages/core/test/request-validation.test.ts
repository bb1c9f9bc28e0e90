import { CodexImgError, normalizeImageRequest, REQUEST_LIMITS } from "@codex-img/core";
import { testImage } from "@codex-img/core/testing";
import { describe, expect, it } from "vitest";

function refusal(fn: () => unknown): CodexImgError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CodexImgError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("normalizeImageRequest", () => {
  it("applies defaults and reads each reference's real format", async () => {
    const ref = await testImage("jpeg", 64, 48);
    const req = normalizeImageRequest({ prompt: "a cat", referenceImages: [{ bytes: ref, format: "png" }] });
    expect(req).toMatchObject({
      size: "auto",
      quality: "auto",
      background: "auto",
      outputFormat: "png",
      n: 1,
      model: "gpt-image-2",
    });
    expect(req.referenceImages[0]).toMatchObject({ format: "jpeg", width: 64, height: 48 });
    // Absent unless asked: upstream keeps its own default, and stored requests stay as they were.
    expect(req).not.toHaveProperty("inputFidelity");
    expect(normalizeImageRequest({ prompt: "a cat", inputFidelity: "high" }).inputFidelity).toBe("high");
  });

  it.each([
    [{ prompt: "" }, "prompt"],
    [{ prompt: "   " }, "prompt"],
    [{ prompt: "x".repeat(REQUEST_LIMITS.promptMaxChars + 1) }, "prompt"],
    [{ prompt: "a", size: "big" }, "size"],
    [{ prompt: "a", size: "1024x99999" }, "size"],
    [{ prompt: "a", size: "10x10" }, "size"],
    [{ prompt: "a", quality: "ultra" }, "quality"],
    [{ prompt: "a", background: "green" }, "background"],
    [{ prompt: "a", outputFormat: "gif" }, "output_format"],
    [{ prompt: "a", inputFidelity: "medium" }, "input_fidelity"],
    [{ prompt: "a", n: 0 }, "n"],
    [{ prompt: "a", n: 11 }, "n"],
    [{ prompt: "a", n: 1.5 }, "n"],
  ])("refuses %j naming %s", (request, param) => {
    const error = refusal(() => normalizeImageRequest(request as never));
    expect(error).toMatchObject({ code: "invalid_request", retryable: false, details: { param } });
  });

  it("refuses references that are not images, too many, or missing bytes", async () => {
    const text = new TextEncoder().encode("hello");
    expect(
      refusal(() => normalizeImageRequest({ prompt: "a", referenceImages: [{ bytes: text }] })).message,
    ).toMatch(/reference image 1 is not a PNG, JPEG or WebP/);
    const png = await testImage("png", 8, 8);
    const many = Array.from({ length: 17 }, () => ({ bytes: png }));
    expect(refusal(() => normalizeImageRequest({ prompt: "a", referenceImages: many })).details.param).toBe(
      "image",
    );
    expect(refusal(() => normalizeImageRequest({ prompt: "a", referenceImages: [{} as never] })).code).toBe(
      "invalid_request",
    );
  });
});
