/** What `codex exec --json` said on stdout, one JSON object per line. */
export interface CliEvents {
  /** From `thread.started`; also names the rollout and the generated_images folder. */
  threadId?: string;
  /** Messages of `error` and `turn.failed` events, in order. */
  errors: string[];
  /** Text of the last agent message, if any. */
  lastMessage?: string;
  turnCompleted: boolean;
}

/** Reads the JSONL stream of `codex exec --json`; non-JSON lines (older versions, noise) are skipped. */
export function parseCliEvents(stdout: string): CliEvents {
  const events: CliEvents = { errors: [], turnCompleted: false };
  for (const line of stdout.split("\n")) {
    const event = parseLine(line);
    if (!event) continue;
    const type = event.type;
    if (type === "thread.started" && typeof event.thread_id === "string") events.threadId = event.thread_id;
    else if (type === "turn.completed") events.turnCompleted = true;
    else if (type === "error" && typeof event.message === "string") events.errors.push(event.message);
    else if (type === "turn.failed") {
      const message = (event.error as { message?: unknown } | undefined)?.message;
      if (typeof message === "string" && !events.errors.includes(message)) events.errors.push(message);
    } else if (type === "item.completed") {
      const item = event.item as { type?: unknown; text?: unknown } | undefined;
      if (item?.type === "agent_message" && typeof item.text === "string") events.lastMessage = item.text;
    }
  }
  return events;
}

/** The session id of the human-mode banner on stderr (`session id: <uuid>`), for runs without `--json`. */
export function findSessionIdInStderr(stderr: string): string | undefined {
  return /^session id:\s*([0-9a-f-]{36})\s*$/im.exec(stderr)?.[1];
}

function parseLine(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
