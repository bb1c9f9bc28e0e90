import { redactSecrets } from "./redact.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

/** Structured logging, injected. Fields must never hold a token; `jsonLogger` redacts as a safety net. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One JSON object per line through `write` (stderr by default), secrets scrubbed. */
export function jsonLogger(
  options: { level?: LogLevel; write?: (line: string) => void; now?: () => number } = {},
): Logger {
  const order: LogLevel[] = ["debug", "info", "warn", "error"];
  const min = order.indexOf(options.level ?? "info");
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? Date.now;
  const emit =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (order.indexOf(level) < min) return;
      const record = { time: new Date(now()).toISOString(), level, msg: message, ...fields };
      write(redactSecrets(JSON.stringify(record, errorReplacer)));
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return value;
}
