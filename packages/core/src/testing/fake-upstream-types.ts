import type { IncomingMessage, ServerResponse } from "node:http";

/** One request as the fake upstream saw it (body already decompressed). */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/backend-api/codex/images/generations`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Header names and values exactly as sent, in wire order (names as the client spelled them). */
  rawHeaders: Array<[string, string]>;
  body: Buffer;
  /** Bytes on the wire (before decompression), to check `content-length`. */
  rawBodyLength: number;
  /** Parsed JSON body when it was JSON, else undefined. */
  json: unknown;
  /** `content-encoding` of the raw body (`zstd` for the real CLI's /responses). */
  contentEncoding?: string;
}

/** A route of the fake: returns true when it answered the request. */
export type FakeHandler = (
  request: RecordedRequest,
  res: ServerResponse,
  raw: IncomingMessage,
) => Promise<boolean>;
