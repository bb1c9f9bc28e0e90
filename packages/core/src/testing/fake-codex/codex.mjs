#!/usr/bin/env node
// @ts-check
/**
 * A stand-in for the official `codex` CLI 0.169.0 (upstream.md §5), for tests of the codex-cli backend.
 * It accepts the real flags of `codex exec`, prints what the real one prints (stderr banner with
 * `session id:`, or JSONL with `--json`), writes the real file layout (generated_images/<thread>/<call>.png
 * and a session rollout with `savedPath` and base64), and gets its image like the real one: POST
 * `{openai_base_url}/images/generations|edits` with the real headers and the bearer from auth.json, so
 * the fake backend's scripting (429 usage limit, 500, …) drives it. Image-route failures print the real
 * ERROR line and exit 0, exactly like the real CLI.
 *
 * What the fake backend cannot express comes from `$CODEX_HOME/fake-codex-scenario.json` (the backend
 * gives the child a clean environment, so a file in the home is the only channel):
 *   hang: true                 never finish after `thread.started` (to test the kill path)
 *   ignoreSigterm: true        survive SIGTERM (to test SIGKILL after the grace)
 *   spawnGrandchild: true      start a child in the same process group (to test the group kill)
 *   layout: "rollout-only"     old versions: no generated_images file, base64 only in the rollout
 *   usageLimitExit: {resetsAt} the /responses 429: "You've hit your usage limit … try again at …", exit 1
 *   staleImage: {base64, ageMs} write this image dated ageMs in the past instead of fetching one
 *   noImage: true              the model answers with text only
 *   delayMs: n                 wait n ms before fetching the image
 * Every run appends `{event: "started" | "finished" | "sigterm", pid, time, argv, env, …}` lines to
 * `$CODEX_HOME/fake-codex-runs.jsonl`, so tests can see overlap, environment and process ids.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { request as httpRequest, STATUS_CODES } from "node:http";
import { request as httpsRequest } from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";

const VERSION = "0.169.0";
const args = process.argv.slice(2);

if (args[0] === "--version" || args[0] === "-V") {
  // Tests play older CLIs with this variable (allow-listed for the probe); `exec` never sees it.
  process.stdout.write(`codex-cli ${process.env.FAKE_CODEX_VERSION || VERSION}\n`);
  process.exit(0);
}
if (args[0] !== "exec") {
  process.stderr.write("fake codex: only `exec` and `--version` are implemented\n");
  process.exit(2);
}

/** @typedef {{hang?: boolean, ignoreSigterm?: boolean, spawnGrandchild?: boolean, layout?: "current" | "rollout-only", usageLimitExit?: {resetsAt: number}, staleImage?: {base64: string, ageMs?: number}, noImage?: boolean, delayMs?: number}} Scenario */

const VALUE_FLAGS = new Map([
  ["-c", "config"],
  ["--config", "config"],
  ["-m", "model"],
  ["--model", "model"],
  ["-s", "sandbox"],
  ["--sandbox", "sandbox"],
  ["-C", "cd"],
  ["--cd", "cd"],
  ["-o", "output"],
  ["--output-last-message", "output"],
  ["--color", "color"],
  ["-p", "profile"],
  ["--profile", "profile"],
  ["--enable", "enable"],
  ["--disable", "disable"],
  ["--add-dir", "addDir"],
  ["--local-provider", "localProvider"],
  ["--output-schema", "outputSchema"],
]);
const BOOLEAN_FLAGS = new Set([
  "--skip-git-repo-check",
  "--json",
  "--ephemeral",
  "--dangerously-bypass-approvals-and-sandbox",
  "--full-auto",
  "--oss",
  "--strict-config",
  "--approve-for-me",
  "--dangerously-bypass-hook-trust",
]);

/** @type {{config: string[], images: string[], flags: Set<string>, model?: string, sandbox?: string, cd?: string, output?: string, prompt?: string}} */
const opts = { config: [], images: [], flags: new Set() };
for (let i = 1; i < args.length; i++) {
  const arg = /** @type {string} */ (args[i]);
  if (arg === "--") {
    opts.prompt = args.slice(i + 1).join(" ");
    break;
  }
  const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
  const name = eq > 0 ? arg.slice(0, eq) : arg;
  if (name === "-i" || name === "--image") {
    // Variadic like clap's `num_args = 1..`: values until the next flag or `--`.
    if (eq > 0) opts.images.push(arg.slice(eq + 1));
    while (i + 1 < args.length && !String(args[i + 1]).startsWith("-")) opts.images.push(String(args[++i]));
    continue;
  }
  if (VALUE_FLAGS.has(name)) {
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) usageError(`a value is required for '${name} <VALUE>' but none was supplied`);
    const key = VALUE_FLAGS.get(name);
    if (key === "config") opts.config.push(String(value));
    else if (key === "model" || key === "sandbox" || key === "cd" || key === "output")
      opts[key] = String(value);
    continue;
  }
  if (BOOLEAN_FLAGS.has(arg)) {
    opts.flags.add(arg);
    continue;
  }
  if (arg.startsWith("-")) usageError(`unexpected argument '${arg}' found`);
  opts.prompt = args.slice(i).join(" ");
  break;
}

if (opts.sandbox && !["read-only", "workspace-write", "danger-full-access"].includes(opts.sandbox)) {
  usageError(`invalid value '${opts.sandbox}' for '--sandbox <SANDBOX_MODE>'`);
}
if (!opts.prompt)
  fail("No prompt provided. Either specify one as an argument or pipe the prompt into stdin.");
if (!opts.flags.has("--skip-git-repo-check")) {
  fail("Not inside a trusted directory and --skip-git-repo-check was not specified.");
}
const cwd = opts.cd ?? process.cwd();
if (!existsSync(cwd)) fail(`Error: No such file or directory (os error 2): ${cwd}`);
for (const image of opts.images) if (!existsSync(image)) fail(`Error: failed to read image ${image}`);

const json = opts.flags.has("--json");
const codexHome = process.env.CODEX_HOME ?? join(homedir(), ".codex");
/** @type {Scenario} */
const scenario = readJson(join(codexHome, "fake-codex-scenario.json")) ?? {};
const overrides = parseOverrides(opts.config);
const threadId = randomUUID();
const runStarted = new Date();
const rolloutPath = opts.flags.has("--ephemeral")
  ? undefined
  : join(
      codexHome,
      "sessions",
      String(runStarted.getFullYear()),
      pad(runStarted.getMonth() + 1),
      pad(runStarted.getDate()),
      `rollout-${runStarted.getFullYear()}-${pad(runStarted.getMonth() + 1)}-${pad(runStarted.getDate())}T${pad(runStarted.getHours())}-${pad(runStarted.getMinutes())}-${pad(runStarted.getSeconds())}-${threadId}.jsonl`,
    );

/** @param {Record<string, unknown>} record */
function record(record) {
  appendFileSync(
    join(codexHome, "fake-codex-runs.jsonl"),
    `${JSON.stringify({ ...record, pid: process.pid, threadId, time: Date.now() })}\n`,
  );
}

if (scenario.ignoreSigterm) {
  process.on("SIGTERM", () => record({ event: "sigterm", ignored: true }));
} else {
  process.on("SIGTERM", () => {
    record({ event: "sigterm", ignored: false });
    process.exit(143);
  });
}

let grandchildPid;
if (scenario.spawnGrandchild) {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  grandchildPid = child.pid;
}
record({ event: "started", argv: args, cwd, env: process.env, grandchildPid });

await main();

async function main() {
  writeRollout({
    type: "session_meta",
    payload: {
      id: threadId,
      session_id: threadId,
      timestamp: runStarted.toISOString(),
      cwd,
      cli_version: VERSION,
      originator: "codex_exec",
    },
  });
  writeRollout({
    type: "response_item",
    payload: { type: "message", role: "user", content: [{ type: "input_text", text: opts.prompt }] },
  });
  if (json) {
    out({ type: "thread.started", thread_id: threadId });
    out({ type: "turn.started" });
  } else {
    process.stderr.write(
      [
        `OpenAI Codex v${VERSION}`,
        "--------",
        `workdir: ${cwd}`,
        `model: ${opts.model ?? "gpt-5.5"}`,
        "provider: openai",
        "approval: never",
        `sandbox: ${opts.flags.has("--dangerously-bypass-approvals-and-sandbox") ? "danger-full-access" : (opts.sandbox ?? "read-only")}`,
        "reasoning effort: none",
        "reasoning summaries: none",
        `session id: ${threadId}`,
        "--------",
        "user",
        String(opts.prompt),
        "",
      ].join("\n"),
    );
  }

  if (scenario.hang) {
    setInterval(() => {}, 60_000);
    return;
  }
  if (scenario.usageLimitExit) {
    const message = `You\u2019ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit https://chatgpt.com/settings/usage to purchase more credits or try again at ${formatResetTime(scenario.usageLimitExit.resetsAt)}.`;
    if (json) {
      out({ type: "error", message });
      out({ type: "turn.failed", error: { message } });
    } else {
      process.stderr.write(`ERROR: ${message}\nERROR: ${message}\n`);
    }
    finish(1);
    return;
  }
  if (scenario.delayMs) await new Promise((r) => setTimeout(r, scenario.delayMs));

  const callId = `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
  const imagesDir = join(codexHome, "generated_images", threadId);
  if (scenario.staleImage) {
    mkdirSync(imagesDir, { recursive: true });
    const path = join(imagesDir, `${callId}.png`);
    writeFileSync(path, Buffer.from(scenario.staleImage.base64, "base64"));
    const old = new Date(Date.now() - (scenario.staleImage.ageMs ?? 3_600_000));
    utimesSync(path, old, old);
  } else if (!scenario.noImage) {
    writeRollout({
      type: "response_item",
      payload: {
        type: "function_call",
        name: "imagegen",
        namespace: "image_gen",
        call_id: callId,
        arguments: JSON.stringify({ prompt: opts.prompt }),
      },
    });
    const result = await fetchImage();
    if (result.ok) {
      const b64 = result.b64;
      if (scenario.layout === "rollout-only") {
        writeRollout({
          type: "response_item",
          payload: {
            type: "image_generation_call",
            id: callId,
            status: "completed",
            revised_prompt: opts.prompt,
            result: b64,
          },
        });
        writeRollout({
          type: "event_msg",
          payload: {
            type: "image_generation_end",
            call_id: callId,
            status: "completed",
            revised_prompt: opts.prompt,
            result: b64,
          },
        });
      } else {
        mkdirSync(imagesDir, { recursive: true });
        const savedPath = join(imagesDir, `${callId}.png`);
        // Always `.png`, bytes exactly as decoded: the real CLI does not look at them either.
        writeFileSync(savedPath, Buffer.from(b64, "base64"));
        writeRollout({
          type: "event_msg",
          payload: {
            type: "item_completed",
            thread_id: threadId,
            item: {
              type: "Extension",
              kind: "image_gen.generation",
              id: callId,
              status: "completed",
              revisedPrompt: opts.prompt,
              result: b64,
              transparentBackground: false,
              failure: null,
              savedPath,
              generationId: null,
            },
          },
        });
      }
    } else {
      process.stderr.write(
        `${new Date().toISOString()} ERROR codex_core::tools::router: error=image generation failed: ${result.error}\n`,
      );
    }
  }

  const message = scenario.noImage ? "I can only describe the picture in words." : "Done.";
  writeRollout({
    type: "response_item",
    payload: { type: "message", role: "assistant", content: [{ type: "output_text", text: message }] },
  });
  if (json) {
    out({ type: "item.completed", item: { id: "item_0", type: "agent_message", text: message } });
    out({
      type: "turn.completed",
      usage: { input_tokens: 2, cached_input_tokens: 0, output_tokens: 2, reasoning_output_tokens: 0 },
    });
  } else {
    process.stderr.write(`codex\n${message}\ntokens used\n4\n`);
    process.stdout.write(`${message}\n`);
  }
  if (opts.output) writeFileSync(opts.output, message);
  finish(0);
}

/** @param {number} code */
function finish(code) {
  writeRollout({ type: "event_msg", payload: { type: "task_complete", last_agent_message: null } });
  record({ event: "finished", exitCode: code });
  process.exit(code);
}

/**
 * @returns {Promise<{ok: true, b64: string} | {ok: false, error: string}>}
 */
async function fetchImage() {
  const base = overrides.openai_base_url;
  if (typeof base !== "string")
    return { ok: false, error: 'fake codex: pass -c openai_base_url="https://…/backend-api/codex"' };
  const auth = readJson(join(codexHome, "auth.json"));
  const tokens = auth?.tokens ?? {};
  const edit = opts.images.length > 0;
  /** @type {Record<string, unknown>} */
  const body = {
    prompt: opts.prompt,
    background: "opaque",
    model: "gpt-image-2",
    quality: "auto",
    size: "auto",
  };
  if (edit) {
    body.images = opts.images.map((path) => ({
      image_url: `data:${mimeOf(path)};base64,${readFileSync(path).toString("base64")}`,
    }));
  }
  const turnId = randomUUID();
  const headers = {
    version: VERSION,
    "x-codex-image-turn-id": turnId,
    "x-codex-turn-metadata": JSON.stringify({
      session_id: threadId,
      thread_id: threadId,
      model: opts.model ?? "gpt-5.5",
      turn_id: turnId,
      turn_trigger: "exec",
      sandbox_mode: opts.sandbox ?? "read-only",
      codex_version: VERSION,
    }),
    authorization: `Bearer ${tokens.access_token ?? ""}`,
    "chatgpt-account-id": String(tokens.account_id ?? ""),
    "content-type": "application/json",
    originator: "codex_exec",
    "user-agent": `codex_exec/${VERSION} (${process.platform}; ${process.arch}) unknown (codex_exec; ${VERSION})`,
    accept: "*/*",
  };
  const url = `${base.replace(/\/$/, "")}/images/${edit ? "edits" : "generations"}`;
  let last = { status: 0, text: "" };
  // The real CLI tries a 5xx five times and a 4xx once.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      last = await post(url, headers, JSON.stringify(body));
    } catch (error) {
      return { ok: false, error: `error sending request for url (${url}): ${String(error)}` };
    }
    if (last.status < 500) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (last.status >= 200 && last.status < 300) {
    const reply = safeJson(last.text);
    const b64 = reply?.data?.[0]?.b64_json;
    if (typeof b64 === "string") return { ok: true, b64 };
    return { ok: false, error: "image generation returned no image data" };
  }
  return {
    ok: false,
    error: `http ${last.status} ${STATUS_CODES[last.status] ?? ""}: Some(${rustDebug(last.text)})`,
  };
}

/**
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {string} body
 * @returns {Promise<{status: number, text: string}>}
 */
function post(url, headers, body) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const ca = process.env.CODEX_CA_CERTIFICATE ? readFileSync(process.env.CODEX_CA_CERTIFICATE) : undefined;
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        ...(ca ? { ca } : {}),
      },
      (res) => {
        const chunks = /** @type {Buffer[]} */ ([]);
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Rust's `{:?}` of a string, close enough: JSON string escapes. @param {string} text */
function rustDebug(text) {
  return JSON.stringify(text);
}

/** `-c key=value`: the value is TOML; a bare string that does not parse is taken literally. @param {string[]} entries */
function parseOverrides(entries) {
  /** @type {Record<string, unknown>} */
  const result = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq < 0) usageError(`Invalid override (missing '='): ${entry}`);
    const key = entry.slice(0, eq).trim();
    const raw = entry.slice(eq + 1).trim();
    let value = /** @type {unknown} */ (raw);
    if (/^".*"$/.test(raw)) value = safeJson(raw) ?? raw.slice(1, -1);
    else if (/^'.*'$/.test(raw)) value = raw.slice(1, -1);
    else if (raw === "true" || raw === "false") value = raw === "true";
    else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
    result[key] = value;
  }
  return result;
}

/** The CLI's format, in local time: `May 4th, 2026 11:16 PM`. @param {number} resetsAt unix seconds */
function formatResetTime(resetsAt) {
  const d = new Date(resetsAt * 1000);
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const day = d.getDate();
  const suffix =
    day % 10 === 1 && day !== 11
      ? "st"
      : day % 10 === 2 && day !== 12
        ? "nd"
        : day % 10 === 3 && day !== 13
          ? "rd"
          : "th";
  const hours = d.getHours();
  const hour12 = hours % 12 === 0 ? 12 : hours % 12;
  return `${months[d.getMonth()]} ${day}${suffix}, ${d.getFullYear()} ${hour12}:${pad(d.getMinutes())} ${hours < 12 ? "AM" : "PM"}`;
}

/** @param {Record<string, unknown>} line */
function writeRollout(line) {
  if (!rolloutPath) return;
  mkdirSync(join(rolloutPath, ".."), { recursive: true });
  appendFileSync(rolloutPath, `${JSON.stringify({ timestamp: new Date().toISOString(), ...line })}\n`);
}

/** @param {Record<string, unknown>} event */
function out(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** @param {string} message */
function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** @param {string} message */
function usageError(message) {
  process.stderr.write(
    `error: ${message}\n\nUsage: codex exec [OPTIONS] [PROMPT]\n\nFor more information, try '--help'.\n`,
  );
  process.exit(2);
}

/** @param {string} path */
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** @param {string} text */
function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** @param {string} path */
function mimeOf(path) {
  if (/\.jpe?g$/i.test(path)) return "image/jpeg";
  if (/\.webp$/i.test(path)) return "image/webp";
  return "image/png";
}

/** @param {number} n */
function pad(n) {
  return String(n).padStart(2, "0");
}
