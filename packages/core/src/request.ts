import { CodexImgError } from "./errors.js";
import { sniffImage } from "./image/sniff.js";
import type {
  ImageBackground,
  ImageFormat,
  ImageQuality,
  ImageRequest,
  ImageSize,
  InputFidelity,
  VisionRequest,
} from "./types.js";

/** Limits every entry point enforces before any work starts (documented in docs/backends.md). */
export const REQUEST_LIMITS = {
  promptMaxChars: 32_000,
  maxImages: 10,
  maxReferenceImages: 16,
  /** Per reference image, as the public API allows. */
  maxReferenceBytes: 50 * 1024 * 1024,
  minSide: 64,
  maxSide: 4096,
} as const;

const QUALITIES: readonly ImageQuality[] = ["auto", "low", "medium", "high"];
const BACKGROUNDS: readonly ImageBackground[] = ["auto", "opaque", "transparent"];
const FORMATS: readonly ImageFormat[] = ["png", "jpeg", "webp"];
const FIDELITIES: readonly InputFidelity[] = ["low", "high"];

/** A request after validation, with defaults applied and each reference's format read from its bytes. */
export interface NormalizedImageRequest {
  prompt: string;
  size: ImageSize;
  quality: ImageQuality;
  background: ImageBackground;
  outputFormat: ImageFormat;
  n: number;
  referenceImages: Array<{ bytes: Uint8Array; format: ImageFormat; width: number; height: number }>;
  model: string;
  /** Only when asked: absent keeps upstream's default and leaves older stored requests as they were. */
  inputFidelity?: InputFidelity;
}

export const DEFAULT_IMAGE_MODEL = "gpt-image-2";
/**
 * The size and quality every entry point uses when a caller names none (OpenAI routes, tRPC, the client,
 * the CLI, the playground); only the predecessor's own routes keep their documented 1024x1024 / medium.
 */
export const DEFAULT_IMAGE_SIZE: ImageSize = "auto";
export const DEFAULT_IMAGE_QUALITY: ImageQuality = "auto";

/**
 * Validates a request and applies defaults. Throws `invalid_request` naming the offending field, so bad
 * input is refused at the door instead of failing later in a worker.
 */
export function normalizeImageRequest(request: ImageRequest): NormalizedImageRequest {
  const prompt = typeof request.prompt === "string" ? request.prompt : "";
  if (prompt.trim().length === 0) throw invalid("prompt", "prompt must be a non-empty string");
  if (prompt.length > REQUEST_LIMITS.promptMaxChars) {
    throw invalid("prompt", `prompt is longer than ${REQUEST_LIMITS.promptMaxChars} characters`);
  }
  const size = parseSize(request.size ?? DEFAULT_IMAGE_SIZE);
  const quality = oneOf("quality", request.quality ?? DEFAULT_IMAGE_QUALITY, QUALITIES);
  const background = oneOf("background", request.background ?? "auto", BACKGROUNDS);
  const outputFormat = oneOf("output_format", request.outputFormat ?? "png", FORMATS);
  const n = request.n ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > REQUEST_LIMITS.maxImages) {
    throw invalid("n", `n must be a whole number from 1 to ${REQUEST_LIMITS.maxImages}`);
  }
  const references = request.referenceImages ?? [];
  if (references.length > REQUEST_LIMITS.maxReferenceImages) {
    throw invalid("image", `at most ${REQUEST_LIMITS.maxReferenceImages} reference images are allowed`);
  }
  const referenceImages = references.map((ref, index) => {
    if (!(ref?.bytes instanceof Uint8Array))
      throw invalid("image", `reference image ${index + 1} has no bytes`);
    if (ref.bytes.length > REQUEST_LIMITS.maxReferenceBytes) {
      throw invalid("image", `reference image ${index + 1} is larger than 50 MB`);
    }
    const info = sniffImage(ref.bytes);
    if (!info) throw invalid("image", `reference image ${index + 1} is not a PNG, JPEG or WebP image`);
    return { bytes: ref.bytes, ...info };
  });
  const model = request.model?.trim() || DEFAULT_IMAGE_MODEL;
  const inputFidelity =
    request.inputFidelity === undefined
      ? undefined
      : oneOf("input_fidelity", request.inputFidelity, FIDELITIES);
  return {
    prompt,
    size,
    quality,
    background,
    outputFormat,
    n,
    referenceImages,
    model,
    ...(inputFidelity === undefined ? {} : { inputFidelity }),
  };
}

/** Vision asks about 1 to 16 images (the predecessor's `/v1/vision` rule). */
export const VISION_LIMITS = { minImages: 1, maxImages: 16 } as const;

/** A vision request after validation: the images' formats and sizes read from their bytes. */
export interface NormalizedVisionRequest {
  prompt: string;
  images: NormalizedImageRequest["referenceImages"];
  model?: string;
}

/**
 * Validates a vision request: a prompt like an image prompt and 1 to 16 readable images. Throws
 * `invalid_request` with `param` `prompt` or `images` (`details.count` when the count is wrong).
 */
export function normalizeVisionRequest(request: VisionRequest): NormalizedVisionRequest {
  const images = Array.isArray(request.images) ? request.images : [];
  if (images.length < VISION_LIMITS.minImages || images.length > VISION_LIMITS.maxImages) {
    throw new CodexImgError(
      "invalid_request",
      `Vision takes ${VISION_LIMITS.minImages} to ${VISION_LIMITS.maxImages} images; ${images.length} were given.`,
      { details: { param: "images", count: images.length } },
    );
  }
  const checked = normalizeImageRequest({ prompt: request.prompt, referenceImages: images });
  const model = request.model?.trim();
  return {
    prompt: checked.prompt,
    images: checked.referenceImages,
    ...(model ? { model } : {}),
  };
}

/** Parses `auto` or `WxH` within the accepted range. */
export function parseSize(value: string): ImageSize {
  if (value === "auto") return "auto";
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(String(value));
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  const { minSide, maxSide } = REQUEST_LIMITS;
  if (!match || width < minSide || height < minSide || width > maxSide || height > maxSide) {
    throw invalid("size", `size must be "auto" or WIDTHxHEIGHT with each side from ${minSide} to ${maxSide}`);
  }
  return `${width}x${height}`;
}

function oneOf<T extends string>(param: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalid(param, `${param} must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function invalid(param: string, message: string): CodexImgError {
  return new CodexImgError("invalid_request", message, { details: { param } });
}
