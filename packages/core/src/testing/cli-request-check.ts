import type { RecordedRequest } from "./fake-upstream-types.js";
import { CODEX_EXEC_GOLDEN_RECORD } from "./golden/codex-exec-0.169.0.js";

interface GoldenRequest {
  method: string;
  path: string;
  contentEncoding?: string;
  headers: Array<[string, string]>;
  body: Record<string, unknown>;
}

export type CliRequestKind =
  | "refresh_proactive"
  | "refresh_unauthorized"
  | "wham"
  | "images_generations"
  | "images_edits"
  | "responses";

const recorded = CODEX_EXEC_GOLDEN_RECORD.requests;
/** `wham` is the record of `wham/accounts/check`, which every `wham` GET (the usage poll's too) follows. */
const golden = {
  requests: { ...recorded, wham: recorded.wham_accounts_check },
} as unknown as { requests: Record<CliRequestKind, GoldenRequest> };

/** The recorded CLI request of one kind (for tests that show what is compared). */
export function cliGoldenRequest(kind: CliRequestKind): GoldenRequest {
  return golden.requests[kind];
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g;
const USER_AGENT = /^(codex_exec\/\S+) \((.+) ([^ ;]+); ([^)]+)\) (\S+)( \(codex_exec; \S+\))?$/;

/** Which recorded request a request to the fake should equal; undefined for paths the CLI record lacks. */
export function cliRequestKind(request: RecordedRequest): CliRequestKind | undefined {
  const path = request.url.split("?")[0] ?? "";
  if (path.endsWith("/oauth/token")) {
    const reason = (request.json as { refresh_reason?: unknown } | undefined)?.refresh_reason;
    return reason === "unauthorized_recovery" ? "refresh_unauthorized" : "refresh_proactive";
  }
  if (path.endsWith("/wham/accounts/check") || path.endsWith("/wham/usage")) return "wham";
  if (path.endsWith("/codex/images/generations")) return "images_generations";
  if (path.endsWith("/codex/images/edits")) return "images_edits";
  if (path.endsWith("/codex/responses")) return "responses";
  return undefined;
}

/**
 * Every difference between a request and the CLI's recorded one: header names, order and values,
 * content encoding, body fields, their order and values. Values that differ per request (ids, tokens,
 * times, the prompt) are compared by shape and by consistency: an id that is the same in two places of
 * the CLI's request must be the same in ours too. The OS part of the User-Agent is the machine's and is
 * only checked for its shape. Documented extensions: `n` (> 1) on the image routes; on `/responses` the
 * content of `input` and `tools` (the hosted image tool instead of the CLI's function tools).
 */
export function compareWithCliRecord(request: RecordedRequest, kind = cliRequestKind(request)): string[] {
  if (!kind) return [];
  const record = golden.requests[kind];
  const diffs: string[] = [];
  const ids = new Map<string, string>();
  const sameIds = (where: string, expected: string, actual: string): void => {
    const template = (text: string): string => text.replace(UUID, "<uuid>");
    if (template(expected) !== template(actual)) {
      diffs.push(`${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
      return;
    }
    const want = [...expected.matchAll(UUID)];
    const got = [...actual.matchAll(UUID)];
    want.forEach((match, i) => {
      const mine = got[i];
      if (!mine) return;
      if (match[1] !== mine[1]) diffs.push(`${where}: a UUIDv${match[1]} was expected, got v${mine[1]}`);
      const seen = ids.get(match[0]);
      if (seen === undefined) ids.set(match[0], mine[0]);
      else if (seen !== mine[0]) diffs.push(`${where}: ${mine[0]} should be the same id as ${seen}`);
    });
  };

  if (request.method !== record.method) diffs.push(`method ${request.method}, expected ${record.method}`);
  if ((request.contentEncoding ?? undefined) !== record.contentEncoding) {
    diffs.push(
      `content-encoding ${request.contentEncoding ?? "none"}, expected ${record.contentEncoding ?? "none"}`,
    );
  }
  const names = request.rawHeaders.map(([name]) => name);
  const expectedNames = record.headers.map(([name]) => name);
  if (names.join("\n") !== expectedNames.join("\n")) {
    diffs.push(`headers ${JSON.stringify(names)}, expected ${JSON.stringify(expectedNames)}`);
  }
  for (const [index, [name, expected]] of record.headers.entries()) {
    const actual = request.rawHeaders[index]?.[0] === name ? request.rawHeaders[index]?.[1] : undefined;
    if (actual === undefined) continue;
    const where = `header ${name}`;
    if (expected === "Bearer <access_token>") {
      if (!/^Bearer \S+$/.test(actual)) diffs.push(`${where}: not a bearer token`);
    } else if (expected === "<account_id>" || expected === "<host>") {
      if (!actual) diffs.push(`${where}: empty`);
    } else if (expected === "<length>") {
      if (actual !== String(request.rawBodyLength))
        diffs.push(`${where}: ${actual}, body has ${request.rawBodyLength}`);
    } else if (name === "x-codex-routing-hint") {
      // The carrier model is a setting; the CLI's header is `model=<slug>`.
      if (!/^model=\S+$/.test(actual)) diffs.push(`${where}: ${JSON.stringify(actual)} is not model=<slug>`);
    } else if (name === "user-agent") {
      // The CLI's own `wham` requests carry the turn suffix once its turn has started and not before
      // (both seen from 0.169.0 on accounts/check); the usage poll, outside any turn, sends none.
      const suffixed = `${expected} (codex_exec; ${USER_AGENT.exec(expected)?.[1]?.split("/")[1] ?? ""})`;
      const either = kind === "wham" && USER_AGENT.exec(actual)?.[6] !== undefined ? suffixed : expected;
      compareUserAgent(where, either, actual, diffs);
    } else if (expected.startsWith("{")) {
      compareJson(where, JSON.parse(expected), parseOr(actual), diffs, sameIds);
    } else {
      sameIds(where, expected, actual);
    }
  }
  compareBody(kind, record.body, request, diffs, sameIds);
  return diffs;
}

type SameIds = (where: string, expected: string, actual: string) => void;

function compareUserAgent(where: string, expected: string, actual: string, diffs: string[]): void {
  const want = USER_AGENT.exec(expected);
  const got = USER_AGENT.exec(actual);
  if (!want || !got) {
    diffs.push(`${where}: ${JSON.stringify(actual)} is not shaped like ${JSON.stringify(expected)}`);
    return;
  }
  // Group 2-4 (OS name, version, architecture) are this machine's; the rest must be the CLI's.
  if (got[1] !== want[1] || got[5] !== want[5] || got[6] !== want[6]) {
    diffs.push(`${where}: expected ${JSON.stringify(expected)} (any OS), got ${JSON.stringify(actual)}`);
  }
  if (!/^\d+\.\d+\.\d+$|^Rolling Release$|^Unknown$/.test(got[3] ?? "")) {
    diffs.push(`${where}: OS version ${got[3]} is not x.y.z like the CLI's`);
  }
}

function compareJson(
  where: string,
  expected: unknown,
  actual: unknown,
  diffs: string[],
  sameIds: SameIds,
): void {
  if (typeof expected === "string" && where.endsWith(".model")) {
    // The chat model of the turn is a setting (the carrier model); only its presence is the CLI's.
    if (typeof actual !== "string" || actual === "") diffs.push(`${where}: expected a model slug`);
    return;
  }
  if (typeof expected === "string") {
    if (typeof actual !== "string") diffs.push(`${where}: expected a string, got ${JSON.stringify(actual)}`);
    else sameIds(where, expected, actual);
    return;
  }
  if (typeof expected === "number" && /_ms$/.test(where)) {
    if (typeof actual !== "number") diffs.push(`${where}: expected a number`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      diffs.push(`${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
      return;
    }
    for (const [i, item] of expected.entries())
      compareJson(`${where}[${i}]`, item, actual[i], diffs, sameIds);
    return;
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
      diffs.push(`${where}: expected an object`);
      return;
    }
    const wantKeys = Object.keys(expected);
    const gotKeys = Object.keys(actual);
    if (wantKeys.join(",") !== gotKeys.join(",")) {
      diffs.push(`${where}: keys ${JSON.stringify(gotKeys)}, expected ${JSON.stringify(wantKeys)}`);
    }
    for (const key of wantKeys) {
      if (key in actual)
        compareJson(`${where}.${key}`, (expected as never)[key], (actual as never)[key], diffs, sameIds);
    }
    return;
  }
  if (expected !== actual)
    diffs.push(`${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function compareBody(
  kind: CliRequestKind,
  expected: Record<string, unknown>,
  request: RecordedRequest,
  diffs: string[],
  sameIds: SameIds,
): void {
  if (kind === "wham") {
    if (request.rawBodyLength > 0) diffs.push("body: the CLI's wham GETs carry none");
    return;
  }
  const body = request.json;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    diffs.push("body: not a JSON object");
    return;
  }
  const actual = body as Record<string, unknown>;
  const wantKeys = Object.keys(expected);
  let gotKeys = Object.keys(actual);
  const isImages = kind === "images_generations" || kind === "images_edits";
  // `n` is our one extension of the image body: only when more than one image is asked, and last.
  if (isImages && gotKeys.at(-1) === "n") {
    if (!(Number.isInteger(actual.n) && (actual.n as number) > 1))
      diffs.push("body.n: sent without being > 1");
    gotKeys = gotKeys.slice(0, -1);
  }
  if (wantKeys.join(",") !== gotKeys.join(",")) {
    diffs.push(`body keys ${JSON.stringify(gotKeys)}, expected ${JSON.stringify(wantKeys)}`);
  }
  const check = (key: string, ok: boolean, what: string): void => {
    if (key in actual && !ok) diffs.push(`body.${key}: ${JSON.stringify(actual[key])} is not ${what}`);
  };
  const nonEmpty = (value: unknown): boolean => typeof value === "string" && value.length > 0;
  switch (kind) {
    case "refresh_proactive":
    case "refresh_unauthorized":
      for (const key of ["client_id", "grant_type", "refresh_reason"])
        compareJson(`body.${key}`, expected[key], actual[key], diffs, sameIds);
      check("refresh_token", nonEmpty(actual.refresh_token), "a token");
      return;
    case "images_edits":
    case "images_generations":
      check("prompt", nonEmpty(actual.prompt), "a prompt");
      check(
        "background",
        actual.background === "opaque" || actual.background === "transparent",
        "opaque or transparent",
      );
      check("model", nonEmpty(actual.model), "a model");
      check("quality", ["auto", "low", "medium", "high"].includes(String(actual.quality)), "a quality");
      check("size", /^(auto|\d+x\d+)$/.test(String(actual.size)), "auto or WxH");
      if (kind === "images_edits") {
        const images = actual.images;
        const ok =
          Array.isArray(images) &&
          images.length > 0 &&
          images.every(
            (image) =>
              Object.keys(image ?? {}).join(",") === "image_url" &&
              /^data:image\/(png|jpeg|webp);base64,/.test(
                String((image as { image_url?: unknown }).image_url),
              ),
          );
        check("images", ok, "a list of {image_url: data URL}");
      }
      return;
    case "responses": {
      for (const key of ["stream", "tool_choice", "parallel_tool_calls", "reasoning", "store", "include"])
        compareJson(`body.${key}`, expected[key], actual[key], diffs, sameIds);
      compareJson(
        "body.prompt_cache_key",
        expected.prompt_cache_key,
        actual.prompt_cache_key,
        diffs,
        sameIds,
      );
      check("model", nonEmpty(actual.model), "a model");
      check("input", Array.isArray(actual.input) && actual.input.length > 0, "a list of items");
      check("tools", Array.isArray(actual.tools), "a list of tools");
      const want = expected.client_metadata as Record<string, unknown>;
      const got = actual.client_metadata;
      if (got === null || typeof got !== "object") {
        diffs.push("body.client_metadata: not an object");
        return;
      }
      // The CLI writes this map from a hash map: its key order is not stable, its key set is.
      const gotMeta = got as Record<string, unknown>;
      if (Object.keys(want).sort().join(",") !== Object.keys(gotMeta).sort().join(",")) {
        diffs.push(
          `body.client_metadata keys ${JSON.stringify(Object.keys(gotMeta))}, expected ${JSON.stringify(Object.keys(want))}`,
        );
      }
      for (const key of Object.keys(want)) {
        const value = want[key];
        if (typeof value === "string" && value.startsWith("{"))
          compareJson(
            `body.client_metadata.${key}`,
            JSON.parse(value),
            parseOr(gotMeta[key]),
            diffs,
            sameIds,
          );
        else compareJson(`body.client_metadata.${key}`, value, gotMeta[key], diffs, sameIds);
      }
      return;
    }
  }
}

function parseOr(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
