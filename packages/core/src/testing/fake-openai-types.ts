import type { ImageFormat } from "../types.js";
import type { RecordedRequest } from "./fake-upstream-types.js";

export interface FakeOpenAiImageSpec {
  /** Default: the request's `output_format`, else png. */
  format?: ImageFormat;
  /** Default: the request's `size` when it is `WxH`, else 1024x1024. */
  width?: number;
  height?: number;
}

/** One scripted answer; the fake pops one per image request (auth and validation failures pop none). */
export type FakeOpenAiStep =
  | {
      kind: "images";
      /** One entry per image; default one per requested `n`. */
      images?: FakeOpenAiImageSpec[];
      revisedPrompt?: string;
      /** Overrides of the reply's top-level fields (what upstream *claims* it delivered). */
      reply?: { size?: string; quality?: string; background?: string; output_format?: string };
      headers?: Record<string, string>;
    }
  | { kind: "invalid_param"; param: string; message?: string; code?: string }
  | { kind: "moderation_blocked"; message?: string }
  | { kind: "invalid_api_key" }
  | { kind: "insufficient_quota" }
  | { kind: "rate_limited"; retryAfterSeconds?: number; retryAfterMs?: number }
  | { kind: "server_error"; status?: number }
  /** Accepts the request and never answers (until `close()`). */
  | { kind: "stall" }
  | { kind: "error"; status: number; body: unknown; headers?: Record<string, string> };

/** One multipart part as the fake received it. */
export interface FakeMultipartPart {
  name: string;
  /** Text fields only. */
  value?: string;
  /** File parts only. */
  filename?: string;
  type?: string;
  size?: number;
  bytes?: Uint8Array;
}

export interface FakeOpenAiRequest {
  route: "generations" | "edits";
  headers: RecordedRequest["headers"];
  contentType: string;
  /** JSON body (generations), else undefined. */
  json?: Record<string, unknown>;
  /** Every part in order (edits). */
  parts?: FakeMultipartPart[];
  /** Text fields of a JSON or multipart body, as strings (`n` arrives as `"2"` in multipart). */
  fields: Record<string, string>;
  /** File parts only (edits). */
  files: FakeMultipartPart[];
}
