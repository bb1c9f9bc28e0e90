import { concatBytes } from "../image/concat-bytes.js";

/** A response's status line and headers, as they came (names in their case, in their order). */
export interface Http1ResponseHead {
  status: number;
  statusText: string;
  rawHeaders: Array<[string, string]>;
}

/** What `Http1ResponseReader` was given the bytes for, in order. */
export interface Http1ResponseSink {
  head(head: Http1ResponseHead): void;
  /** A view into the bytes given to `push`; valid as long as they are. */
  body(bytes: Uint8Array): void;
}

/** Past this, the status line and headers are refused: a reply's head is a few KiB. */
const MAX_HEAD_BYTES = 64 * 1024;
const CR = 0x0d;
const LF = 0x0a;

type Framing =
  | { kind: "length"; left: number }
  | { kind: "chunked"; step: "size" | "data" | "data-end" | "trailer"; left: number }
  | { kind: "close" };

/**
 * Reads one HTTP/1.1 response from the bytes of a connection as they arrive, cut anywhere: the head (1xx
 * interim responses skipped), then the body by its framing (`content-length`, `chunked` with its
 * trailers, or until the connection closes), handed on as views without copying. `push` answers whether
 * the response is complete; `end` is the connection's close. Errors are `Error`s with a message and no
 * bytes of the response in it.
 */
export class Http1ResponseReader {
  private headBytes: Uint8Array[] = [];
  private headLength = 0;
  private framing: Framing | undefined;
  private line: Uint8Array[] = [];
  private lineLength = 0;
  private finished = false;
  /** The connection may carry another request once this response is complete. */
  keepAlive = true;

  constructor(
    private readonly sink: Http1ResponseSink,
    /** The request was a HEAD: its response has no body whatever its headers say. */
    private readonly noBodyExpected = false,
  ) {}

  get complete(): boolean {
    return this.finished;
  }

  /** Feeds the next bytes; true once the response is complete (bytes after it are a protocol error). */
  push(bytes: Uint8Array): boolean {
    let at = 0;
    while (at < bytes.length) {
      if (this.finished) throw new Error("The upstream sent bytes after the end of its reply.");
      if (!this.framing) {
        at = this.readHead(bytes, at);
        continue;
      }
      at = this.readBody(bytes, at);
    }
    return this.finished;
  }

  /** The connection closed: completes a close-delimited body, or fails a response cut short. */
  end(): void {
    if (this.finished) return;
    if (this.framing?.kind === "close") {
      this.finished = true;
      return;
    }
    throw new Error("The connection closed before the reply ended.");
  }

  private readHead(bytes: Uint8Array, from: number): number {
    const end = headEnd(this.headBytes, bytes, from);
    const taken = end === -1 ? bytes.length : end;
    this.headLength += taken - from;
    if (this.headLength > MAX_HEAD_BYTES) throw new Error("The upstream's reply headers are too large.");
    this.headBytes.push(bytes.subarray(from, taken));
    if (end === -1) return bytes.length;
    const text = new TextDecoder("latin1").decode(joined(this.headBytes));
    this.headBytes = [];
    this.headLength = 0;
    const head = parseHead(text);
    // 100 Continue, 103 Early Hints: an interim head, the real one follows.
    if (head.status >= 100 && head.status < 200 && head.status !== 101) return taken;
    this.keepAlive = !/^HTTP\/1\.0/.test(text) && !hasToken(head.rawHeaders, "connection", "close");
    this.framing = framingOf(head, this.noBodyExpected);
    // Complete before the sink hears of the head, so it knows whether a body follows.
    if (this.framing.kind === "length" && this.framing.left === 0) this.finished = true;
    if (this.framing.kind === "close") this.keepAlive = false;
    this.sink.head(head);
    return taken;
  }

  private readBody(bytes: Uint8Array, from: number): number {
    const framing = this.framing as Framing;
    if (framing.kind === "close") {
      this.sink.body(bytes.subarray(from));
      return bytes.length;
    }
    if (framing.kind === "length" || (framing.kind === "chunked" && framing.step === "data")) {
      const take = Math.min(framing.left, bytes.length - from);
      this.sink.body(bytes.subarray(from, from + take));
      framing.left -= take;
      if (framing.left === 0) {
        if (framing.kind === "length") this.finished = true;
        else framing.step = "data-end";
      }
      return from + take;
    }
    // A chunk-size line, the CRLF after a chunk's data, or a trailer line.
    const newline = bytes.indexOf(LF, from);
    const taken = newline === -1 ? bytes.length : newline + 1;
    this.lineLength += taken - from;
    if (this.lineLength > MAX_HEAD_BYTES) throw new Error("The upstream's chunked reply is malformed.");
    // A line cut by the end of `bytes` is copied: the caller may free their buffer once the body pieces
    // in them are read (`markDisposable`), before the line's end arrives.
    this.line.push(newline === -1 ? bytes.slice(from, taken) : bytes.subarray(from, taken));
    if (newline === -1) return taken;
    const line = new TextDecoder("latin1").decode(joined(this.line)).replace(/\r?\n$/, "");
    this.line = [];
    this.lineLength = 0;
    if (framing.step === "data-end") {
      if (line !== "") throw new Error("The upstream's chunked reply is malformed.");
      framing.step = "size";
    } else if (framing.step === "size") {
      const size = /^([0-9a-fA-F]{1,12})(?:[ \t]*;.*)?$/.exec(line);
      if (!size) throw new Error("The upstream's chunked reply is malformed.");
      framing.left = Number.parseInt(size[1] as string, 16);
      framing.step = framing.left === 0 ? "trailer" : "data";
    } else if (line === "") {
      this.finished = true;
    }
    return taken;
  }
}

/** Where the head ends in `bytes` (the index after its blank line), looking across earlier pieces too. */
function headEnd(earlier: readonly Uint8Array[], bytes: Uint8Array, from: number): number {
  // The last three bytes before `from` may start the CRLFCRLF.
  const tail: number[] = [];
  for (let i = earlier.length - 1; i >= 0 && tail.length < 3; i--) {
    const piece = earlier[i] as Uint8Array;
    for (let j = piece.length - 1; j >= 0 && tail.length < 3; j--) tail.unshift(piece[j] as number);
  }
  for (let i = from; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    const back = (k: number): number | undefined => {
      const index = i - k;
      return index >= from ? bytes[index] : tail[tail.length - (from - index)];
    };
    if (back(1) === CR && back(2) === LF && back(3) === CR) return i + 1;
    if (back(1) === LF) return i + 1;
  }
  return -1;
}

/** The pieces as one: the head's pieces, or a line's (a few, small). */
function joined(pieces: Uint8Array[]): Uint8Array {
  return pieces.length === 1 ? (pieces[0] as Uint8Array) : concatBytes(pieces);
}

function parseHead(text: string): Http1ResponseHead {
  const lines = text.split(/\r?\n/);
  const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!status) throw new Error("The upstream's reply is not HTTP/1.1.");
  const rawHeaders: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error("The upstream's reply has a malformed header.");
    rawHeaders.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { status: Number(status[1]), statusText: status[2] ?? "", rawHeaders };
}

function framingOf(head: Http1ResponseHead, noBodyExpected: boolean): Framing {
  if (noBodyExpected || head.status === 204 || head.status === 304) return { kind: "length", left: 0 };
  if (hasToken(head.rawHeaders, "transfer-encoding", "chunked"))
    return { kind: "chunked", step: "size", left: 0 };
  const lengths = head.rawHeaders.filter(([name]) => name.toLowerCase() === "content-length");
  if (lengths.length === 0) return { kind: "close" };
  const values = new Set(lengths.flatMap(([, value]) => value.split(",").map((v) => v.trim())));
  const [only] = values;
  if (values.size !== 1 || only === undefined || !/^\d{1,15}$/.test(only))
    throw new Error("The upstream's reply has an invalid content-length.");
  return { kind: "length", left: Number(only) };
}

function hasToken(rawHeaders: ReadonlyArray<[string, string]>, name: string, token: string): boolean {
  return rawHeaders.some(
    ([header, value]) =>
      header.toLowerCase() === name &&
      value
        .toLowerCase()
        .split(",")
        .some((part) => part.trim() === token),
  );
}
