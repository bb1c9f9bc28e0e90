import type { Clock } from "../clock.js";
import { decodePng } from "../image/decode-png.js";
import type { RgbaImage } from "../image/encode-png.js";
import { normalizeVisionRequest } from "../request.js";
import type { GenerateOptions, VisionRequest, VisionResult } from "../types.js";

/** How many colours the demo's answer names per image. */
const DOMINANT_COLOURS = 3;

/**
 * The demo backend's answer to a question about images: only what can be measured without a model
 * (format, dimensions, and for PNG the dominant colours), labelled as demo so nobody mistakes it for
 * a model's answer. The same images and question always give the same text.
 */
export async function describeForDemo(
  request: VisionRequest,
  options: GenerateOptions,
  clock: Clock,
): Promise<VisionResult> {
  const { prompt, images } = normalizeVisionRequest(request);
  options.onEvent?.({ type: "progress", stage: "generating", message: "demo backend: measuring the images" });
  const lines = [`[demo] No model looked at these images; this is what the demo backend can measure.`];
  for (const [index, image] of images.entries()) {
    const decoded = image.format === "png" ? await decodePng(image.bytes) : undefined;
    const colours = decoded
      ? `dominant colours ${dominantColours(decoded)
          .map((c) => `${c.hex} (${c.percent}%)`)
          .join(", ")}`
      : "colours not measured (the demo reads PNG pixels only)";
    lines.push(
      `Image ${index + 1}: ${image.format.toUpperCase()}, ${image.width}x${image.height}, ${colours}.`,
    );
  }
  lines.push(`Question: ${prompt.replace(/\s+/g, " ").trim().slice(0, 500)}`);
  return {
    text: lines.join("\n"),
    backend: "demo",
    route: "demo",
    upstreamIds: { demo_id: `demo-${clock.now().toString(36)}` },
    demo: true,
  };
}

/**
 * The most frequent colours of the visible pixels, by 4-bit-per-channel bucket (4,096 buckets), each
 * reported as the mean of its pixels and its share of the visible area.
 */
export function dominantColours(image: RgbaImage): Array<{ hex: string; percent: number }> {
  const count = new Uint32Array(4096);
  const sums = new Float64Array(4096 * 3);
  let visible = 0;
  const { rgba } = image;
  for (let i = 0; i + 3 < rgba.length; i += 4) {
    if ((rgba[i + 3] ?? 0) < 128) continue;
    const r = rgba[i] ?? 0;
    const g = rgba[i + 1] ?? 0;
    const b = rgba[i + 2] ?? 0;
    const bucket = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    count[bucket] = (count[bucket] ?? 0) + 1;
    sums[bucket * 3] = (sums[bucket * 3] ?? 0) + r;
    sums[bucket * 3 + 1] = (sums[bucket * 3 + 1] ?? 0) + g;
    sums[bucket * 3 + 2] = (sums[bucket * 3 + 2] ?? 0) + b;
    visible++;
  }
  if (visible === 0) return [];
  const order = Array.from(count.keys())
    .filter((bucket) => (count[bucket] ?? 0) > 0)
    .sort((a, b) => (count[b] ?? 0) - (count[a] ?? 0) || a - b)
    .slice(0, DOMINANT_COLOURS);
  return order.map((bucket) => {
    const n = count[bucket] ?? 1;
    const hex = [0, 1, 2]
      .map((c) =>
        Math.round((sums[bucket * 3 + c] ?? 0) / n)
          .toString(16)
          .padStart(2, "0"),
      )
      .join("");
    return { hex: `#${hex}`, percent: Math.round((n / visible) * 100) };
  });
}
