import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { CodexImgError } from "../errors.js";
import { encodePng } from "../image/encode-png.js";
import { normalizeImageRequest } from "../request.js";
import type {
  BackendResult,
  GeneratedImage,
  GenerateOptions,
  ImageBackend,
  ImageRequest,
  VisionRequest,
  VisionResult,
} from "../types.js";
import { describeForDemo } from "./demo-vision.js";

export interface DemoBackendOptions {
  /** Largest side the demo draws; bigger requests are scaled down like upstream normalises sizes. Default 2048. */
  maxSide?: number;
  clock?: Clock;
}

const DEMO_DEFAULT_SIDE = 1024;

/**
 * Draws a deterministic placeholder PNG from the prompt, so a fresh checkout works end to end with no
 * login. Never mistaken for a generation: the picture says DEMO, results carry `demo: true`, and the
 * revised prompt starts with `[demo]`. Questions about images are answered with what can be measured
 * (format, dimensions, dominant colours), also labelled as demo.
 */
export function createDemoBackend(options: DemoBackendOptions = {}): ImageBackend {
  const maxSide = options.maxSide ?? 2048;
  const clock = options.clock ?? systemClock;
  return {
    kind: "demo",
    async generate(request: ImageRequest, generateOptions: GenerateOptions = {}): Promise<BackendResult> {
      const req = normalizeImageRequest(request);
      if (req.outputFormat !== "png") {
        // Saving a PNG under a .webp name, or handing PNG bytes to a caller that asked for JPEG, would lie.
        throw new CodexImgError(
          "invalid_request",
          `The demo backend draws PNG placeholders only, not ${req.outputFormat}; ask for png, or log in with Codex (\`codex login\`) for jpeg and webp.`,
          { details: { param: "output_format" } },
        );
      }
      const { signal, onEvent } = generateOptions;
      throwIfAborted(signal);
      onEvent?.({ type: "progress", stage: "generating", message: "demo backend: drawing a placeholder" });
      const [w, h] =
        req.size === "auto"
          ? [DEMO_DEFAULT_SIDE, DEMO_DEFAULT_SIDE]
          : (req.size.split("x").map(Number) as [number, number]);
      const scale = Math.min(1, maxSide / Math.max(w, h));
      const width = Math.max(1, Math.round(w * scale));
      const height = Math.max(1, Math.round(h * scale));
      const images: GeneratedImage[] = [];
      for (let index = 0; index < req.n; index++) {
        const seed = await promptSeed(`${req.prompt}\u0000${index}`);
        const bytes = await encodePng({ width, height, rgba: drawPlaceholder(width, height, seed) });
        throwIfAborted(signal);
        images.push({ bytes, format: "png", width, height, revisedPrompt: `[demo] ${req.prompt}` });
      }
      return {
        images,
        backend: "demo",
        route: "demo",
        requested: { size: req.size, quality: req.quality, n: req.n },
        // OpenAI's replies take quality from a closed enum (low|medium|high|auto): the demo draws the same
        // placeholder for each, so it reports the quality asked for; `demo: true` and the `[demo]` revised
        // prompt are what label it.
        delivered: {
          size: `${width}x${height}`,
          quality: req.quality,
          outputFormat: "png",
          background: "opaque",
        },
        upstreamIds: { demo_id: `demo-${clock.now().toString(36)}` },
        // A placeholder keeps nothing of its references: the fidelity asked for is recorded, not applied.
        ...(req.inputFidelity === undefined
          ? {}
          : {
              diagnostics: { input_fidelity: `${req.inputFidelity} (recorded; the demo draws placeholders)` },
            }),
        demo: true,
      };
    },
    async describe(request: VisionRequest, generateOptions: GenerateOptions = {}): Promise<VisionResult> {
      throwIfAborted(generateOptions.signal);
      return describeForDemo(request, generateOptions, clock);
    },
  };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new CodexImgError("canceled", "The request was canceled.", { cause: signal.reason });
}

async function promptSeed(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

// 5x7 glyphs for the word stamped on every placeholder.
const GLYPHS: Record<string, string[]> = {
  D: ["11110", "10001", "10001", "10001", "10001", "10001", "11110"],
  E: ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
  M: ["10001", "11011", "10101", "10101", "10001", "10001", "10001"],
  O: ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
};

/** A two-colour diagonal gradient picked by the prompt's hash, with DEMO stamped in the middle. */
function drawPlaceholder(width: number, height: number, seed: Uint8Array): Uint8Array {
  const a = [seed[0] ?? 0, seed[1] ?? 0, seed[2] ?? 0];
  const b = [seed[3] ?? 255, seed[4] ?? 255, seed[5] ?? 255];
  const rgba = new Uint8Array(width * height * 4);
  const span = Math.max(1, width + height - 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x + y) / span;
      const i = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) rgba[i + c] = Math.round((a[c] ?? 0) * (1 - t) + (b[c] ?? 0) * t);
      rgba[i + 3] = 255;
    }
  }
  // Dark letters on a light gradient, white on a dark one, so the stamp is always legible.
  const luminance = (c: number[]): number => 0.299 * (c[0] ?? 0) + 0.587 * (c[1] ?? 0) + 0.114 * (c[2] ?? 0);
  const ink = (luminance(a) + luminance(b)) / 2 > 140 ? 24 : 255;
  const word = "DEMO";
  const cell = Math.max(1, Math.floor(Math.min(width / (word.length * 6 + 1), height / 9)));
  const left = Math.floor((width - cell * (word.length * 6 - 1)) / 2);
  const top = Math.floor((height - cell * 7) / 2);
  [...word].forEach((letter, li) => {
    GLYPHS[letter]?.forEach((row, gy) => {
      [...row].forEach((on, gx) => {
        if (on !== "1") return;
        for (let dy = 0; dy < cell; dy++) {
          for (let dx = 0; dx < cell; dx++) {
            const x = left + (li * 6 + gx) * cell + dx;
            const y = top + gy * cell + dy;
            if (x < 0 || y < 0 || x >= width || y >= height) continue;
            rgba.fill(ink, (y * width + x) * 4, (y * width + x) * 4 + 3);
          }
        }
      });
    });
  });
  return rgba;
}
