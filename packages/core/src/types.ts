import type { ImageStore, StoredObjectWithHash } from "./storage/image-store.js";

/**
 * The vocabulary of one image request and its result, shared by every backend.
 * Size and quality are *requests*: the subscription often normalises them, so results always carry
 * what was really delivered, read from the bytes.
 */

export type ImageFormat = "png" | "jpeg" | "webp";
export type ImageQuality = "auto" | "low" | "medium" | "high";
export type ImageBackground = "auto" | "opaque" | "transparent";
/** How closely an edit keeps the features (faces, logos) of its reference images. */
export type InputFidelity = "low" | "high";
/** `auto` or `WxH` (for example `1024x1536`). */
export type ImageSize = "auto" | `${number}x${number}`;

/** The four ways codex-img can make an image. */
export type BackendKind = "codex-http" | "codex-cli" | "openai" | "demo";

/** Which upstream path produced a result (`native` = `/images/*`, `responses` = hosted tool over SSE). */
export type BackendRoute = "native" | "responses" | "cli" | "openai" | "demo";

export interface ReferenceImage {
  /** Raw bytes of a PNG, JPEG or WebP image. */
  bytes: Uint8Array;
  /** Sniffed from the bytes when omitted. */
  format?: ImageFormat;
}

/** A reference image in an image store: its key there, and its format and size read when it was stored. */
export interface StoredReference {
  key: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** Size in bytes. */
  bytes: number;
}

export interface ImageRequest {
  /** What to draw. 1 to 32,000 characters. */
  prompt: string;
  /** Default `auto`. */
  size?: ImageSize;
  /** Default `auto`. */
  quality?: ImageQuality;
  /** Default `auto`. */
  background?: ImageBackground;
  /** Default `png`. */
  outputFormat?: ImageFormat;
  /** Number of images, 1 to 10. Default 1. Backends that can only make one per call are called n times by the runner. */
  n?: number;
  /** Reference images for edit mode (up to 16). */
  referenceImages?: ReferenceImage[];
  /**
   * Reference images already in the store given to `generateInto` (by key, with what was read from their
   * bytes when they were stored): their bytes are streamed from the store into the upstream body, never
   * loaded whole. The runner passes a job's references this way; `generate` does not read them.
   */
  storedReferences?: StoredReference[];
  /** Image model asked for; default `gpt-image-2`. */
  model?: string;
  /**
   * For edits: how closely to keep the reference images. Unset leaves upstream's default (`low`). Sent
   * where the backend's route takes it (docs/backends.md says which); recorded with the job either way.
   */
  inputFidelity?: InputFidelity;
}

export interface GeneratedImage {
  bytes: Uint8Array;
  /** Read from the bytes, never trusted from a file name or a reply field. */
  format: ImageFormat;
  width: number;
  height: number;
  revisedPrompt?: string;
  /**
   * True when the stream ended without a final image and this is the last partial image: the best
   * available result, marked so callers can tell.
   */
  partial?: boolean;
}

/**
 * The runner's image store as a backend sees it: where images are written while their bytes arrive
 * (instead of being held), and where `storedReferences` are read from as streams.
 */
export type ImageSink = Pick<ImageStore, "putStream" | "delete" | "stream">;

/** An image a backend wrote into an `ImageSink`: what is known of it, and where it is. */
export interface StoredGeneratedImage extends Omit<GeneratedImage, "bytes"> {
  /** The stored object, with the SHA-256 of its bytes (the stale-output check reads nothing twice). */
  stored: StoredObjectWithHash;
}

/** A `BackendResult` whose images are already in the sink. */
export interface StoredBackendResult extends Omit<BackendResult, "images"> {
  images: StoredGeneratedImage[];
}

/** The newest usage-limit snapshot of one account, from reply headers, `codex.rate_limits` or `/wham/usage`. */
export interface QuotaWindow {
  /** 0-100. */
  usedPercent: number;
  windowMinutes?: number;
  /** Epoch milliseconds. */
  resetsAt?: number;
}

export interface QuotaSnapshot {
  /** Epoch milliseconds when this snapshot was read. */
  observedAt: number;
  /** Where it was read: `poll` for the usage endpoint (`/wham/usage`); absent for a reply's headers or events. */
  source?: "poll";
  primary?: QuotaWindow;
  secondary?: QuotaWindow;
  planType?: string;
  activeLimit?: string;
  credits?: { hasCredits?: boolean; balance?: string; unlimited?: boolean };
}

/** Token counts as upstream reported them for one call (the Images API's `usage`, or the Responses `usage`). */
export interface UpstreamUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  inputTextTokens?: number;
  inputImageTokens?: number;
}

export interface BackendResult {
  images: GeneratedImage[];
  backend: BackendKind;
  route: BackendRoute;
  /** What was asked for, after defaults. */
  requested: { size: ImageSize; quality: ImageQuality; n: number };
  /** What upstream says it delivered (reply fields), when it says; real dimensions are on each image. */
  delivered: { size?: string; quality?: string; background?: string; outputFormat?: string };
  /** Token counts, when upstream reported them. */
  usage?: UpstreamUsage;
  /** Upstream identifiers worth keeping with the job (`x-codex-imagegen-request-id`, response id, session id). */
  upstreamIds: Record<string, string>;
  quota?: QuotaSnapshot;
  /** Free-form diagnostics such as the CLI's stdout/stderr (already redacted). */
  diagnostics?: Record<string, string>;
  /** True for the demo backend: the image is a placeholder, not a generation. */
  demo?: boolean;
}

/** Progress a backend reports while it works. */
export type BackendEvent =
  | { type: "progress"; stage: "sent" | "queued" | "generating" | "receiving"; message?: string }
  | { type: "partial_image"; index: number; image: GeneratedImage }
  | { type: "quota"; snapshot: QuotaSnapshot }
  | { type: "route"; route: BackendRoute; reason?: string };

/** Everything a backend needs to know about the account it runs as. The account pool builds these. */
export interface BackendAccount {
  /** Human label (folder name of the Codex home by default). */
  label: string;
  /** Fresh credentials for the ChatGPT backend. */
  credentials?: CredentialProvider;
  /** The Codex home folder, for backends that run the CLI. */
  codexHome?: string;
}

export interface CodexCredentials {
  accessToken: string;
  accountId: string;
}

/** Source of credentials for one Codex login. Implementations refresh safely (see `auth/`). */
export interface CredentialProvider {
  /** Credentials to use now; refreshes first when the access token expires within 5 minutes. */
  get(signal?: AbortSignal): Promise<CodexCredentials>;
  /**
   * Called once after upstream answered 401 to `failedAccessToken`: re-reads the stored login (another
   * process may have refreshed already), refreshes if still needed, and returns what to retry with.
   * Throws `login_required` when the login cannot be refreshed.
   */
  recoverFromUnauthorized(failedAccessToken: string, signal?: AbortSignal): Promise<CodexCredentials>;
}

export interface GenerateOptions {
  account?: BackendAccount;
  signal?: AbortSignal;
  onEvent?: (event: BackendEvent) => void;
}

/** A question about images (vision): answered with text, never with an image. */
export interface VisionRequest {
  /** What to ask about the images. 1 to 32,000 characters. */
  prompt: string;
  /** The images to look at: 1 to 16 PNG, JPEG or WebP images. */
  images: ReferenceImage[];
  /** Text model asked for; default the backend's own. */
  model?: string;
}

export interface VisionResult {
  /** The answer; never empty (an empty answer is an `upstream_failed` error). */
  text: string;
  backend: BackendKind;
  route: BackendRoute;
  upstreamIds: Record<string, string>;
  quota?: QuotaSnapshot;
  diagnostics?: Record<string, string>;
  /** True for the demo backend: the answer is measured locally, not seen by a model. */
  demo?: boolean;
}

export interface ImageBackend {
  readonly kind: BackendKind;
  generate(request: ImageRequest, options?: GenerateOptions): Promise<BackendResult>;
  /**
   * Like `generate`, with each image written into `sink` as its bytes arrive (never held whole). Backends
   * that read their images from a stream have it; for the others the runner stores `generate`'s bytes.
   * When it throws, nothing it wrote is left in the sink.
   */
  generateInto?(
    request: ImageRequest,
    sink: ImageSink,
    options?: GenerateOptions,
  ): Promise<StoredBackendResult>;
  /** Answers a question about images; absent on backends that cannot (the runner fails such jobs clearly). */
  describe?(request: VisionRequest, options?: GenerateOptions): Promise<VisionResult>;
}
