import type { UpstreamUsage } from "../../types.js";

/** Reads an OpenAI-shaped `usage` object; undefined when it holds no token counts. */
export function parseUpstreamUsage(value: unknown): UpstreamUsage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const num = (v: unknown): number | undefined =>
    typeof v === "number" && Number.isFinite(v) ? v : undefined;
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const details = (typeof u.input_tokens_details === "object" && u.input_tokens_details) as
    | Record<string, unknown>
    | false;
  const text = details ? num(details.text_tokens) : undefined;
  const image = details ? num(details.image_tokens) : undefined;
  return {
    inputTokens: input ?? 0,
    outputTokens: output ?? 0,
    totalTokens: num(u.total_tokens) ?? (input ?? 0) + (output ?? 0),
    ...(text === undefined ? {} : { inputTextTokens: text }),
    ...(image === undefined ? {} : { inputImageTokens: image }),
  };
}
