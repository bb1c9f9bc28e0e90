import { CodexImgError } from "../../errors.js";
import { fromDataUrlOrBase64, sniffImage } from "../../image/index.js";
import type {
  BackendResult,
  GeneratedImage,
  QuotaSnapshot,
  StoredBackendResult,
  StoredGeneratedImage,
} from "../../types.js";
import { CODEX_MAX_REPLY_BYTES } from "./constants.js";
import type { StreamImageItem } from "./responses-stream.js";
import type { CallContext, CodexHttpRoute } from "./upstream-call.js";

export function buildResult(
  ctx: CallContext,
  route: CodexHttpRoute,
  images: StoredGeneratedImage[],
  delivered: BackendResult["delivered"],
  upstreamIds: Record<string, string>,
  quota: QuotaSnapshot | undefined,
): StoredBackendResult {
  return {
    images,
    backend: "codex-http",
    route,
    requested: { size: ctx.normalized.size, quality: ctx.normalized.quality, n: ctx.normalized.n },
    delivered,
    upstreamIds,
    ...(quota ? { quota } : {}),
  };
}

export function deliveredOf(item: StreamImageItem): BackendResult["delivered"] {
  return {
    ...(item.size ? { size: item.size } : {}),
    ...(item.quality ? { quality: item.quality } : {}),
    ...(item.background ? { background: item.background } : {}),
    ...(item.outputFormat ? { outputFormat: item.outputFormat } : {}),
  };
}

export /** Upstream base64 to an image whose format and size come from the bytes; anything else is an upstream failure. */
function decodeImage(b64: string, label: string, extra: Partial<GeneratedImage>): GeneratedImage {
  const image = tryDecodeImage(b64);
  if (!image) throw notAnImage(label);
  return { ...image, ...extra };
}

export function notAnImage(label: string): CodexImgError {
  return new CodexImgError(
    "upstream_failed",
    "Upstream returned bytes that are not a PNG, JPEG or WebP image.",
    {
      details: { account: label, accountFault: true },
    },
  );
}

export function replyTooLarge(): CodexImgError {
  return new CodexImgError(
    "upstream_failed",
    `The upstream reply is larger than ${CODEX_MAX_REPLY_BYTES} bytes.`,
    {
      details: { accountFault: false },
    },
  );
}

export function tryDecodeImage(b64: string): GeneratedImage | undefined {
  let bytes: Uint8Array;
  try {
    bytes = fromDataUrlOrBase64(b64);
  } catch {
    return undefined;
  }
  const info = sniffImage(bytes);
  return info ? { bytes, format: info.format, width: info.width, height: info.height } : undefined;
}
