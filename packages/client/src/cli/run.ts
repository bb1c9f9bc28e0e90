import { Command, CommanderError, Option } from "commander";
import { isCodexImgClientError } from "../errors.js";
import {
  runAccounts,
  runKeysCreate,
  runKeysDelete,
  runKeysList,
  runKeysRotate,
  runKeysSetEnabled,
} from "./commands/admin.js";
import { runDoctor } from "./commands/doctor.js";
import { type GenerateFlags, runGenerate } from "./commands/generate.js";
import { runJobsCancel, runJobsGet, runJobsList } from "./commands/jobs.js";
import { runServe } from "./commands/serve.js";
import type { GlobalFlags } from "./commands/shared.js";
import type { CliContext } from "./context.js";
import { CliError, EXIT, EXIT_CODE_HELP, exitCodeOf } from "./exit-codes.js";

export const CLI_VERSION = "0.1.0";

const CREDENTIALS_HELP = `Credentials and server (first found wins):
  base URL  --base-url, CODEX_IMG_BASE_URL, ~/.config/codex-img/base-url or config.json "baseUrl",
            else http://127.0.0.1:8000
  API key   --api-key-file PATH, CODEX_IMG_API_KEY, ~/.config/codex-img/api-key or config.json "apiKey"
            (files must be mode 600). A key is never accepted on the command line.
  admin     CODEX_IMG_ADMIN_PASSWORD, ~/.config/codex-img/admin-password or config.json "adminPassword"
  (~/.config is $XDG_CONFIG_HOME when set.)

Output: stdout carries only the saved path(s), one per line (or --json); progress goes to stderr.
Without -o images go to ./assets/generated/<slug>.<ext>, numbered name.png, name-2.png, ...;
an existing file is never replaced without --force.`;

/** Runs the command line and resolves with the exit code; never calls `process.exit`. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  // `serve` hands every flag to the server untouched, so it is dispatched before parsing.
  if (argv[0] === "serve" && argv[1] !== "--help" && argv[1] !== "-h") {
    try {
      return await runServe(argv.slice(1), { ...process.env, ...ctx.env });
    } catch (error) {
      return report(ctx, error);
    }
  }
  let exitCode: number = EXIT.ok;
  const program = buildProgram(ctx, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return report(ctx, error);
  }
}

function report(ctx: CliContext, error: unknown): number {
  const code = exitCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  ctx.stderr.write(`codex-img: error: ${message}\n`);
  const hint = hintFor(error);
  if (hint) ctx.stderr.write(`codex-img: ${hint}\n`);
  return code;
}

/** What to do about it: the skill's error table in short. */
function hintFor(error: unknown): string | undefined {
  if (!isCodexImgClientError(error)) return undefined;
  const retry =
    error.retryAfterMs === undefined ? "" : ` Retry after ${Math.ceil(error.retryAfterMs / 1000)} s.`;
  switch (error.code) {
    case "unreachable":
      return "Is the server running? Start it with `codex-img serve`, or check --base-url / CODEX_IMG_BASE_URL.";
    case "unauthorized":
      return "The server refused the key: check CODEX_IMG_API_KEY or ~/.config/codex-img/api-key.";
    case "forbidden":
      return error.reason === undefined && error.status === 403
        ? "Forbidden: the key lacks the scope, or a proxy in front of the server blocks the request."
        : "The key is not allowed to do this (scope).";
    case "quota_exhausted":
    case "rate_limited":
    case "no_account_available":
    case "queue_full":
      return `Limit reached${error.reason ? ` (${error.reason})` : ""}.${retry}`;
    case "upstream_refused":
      return "The model declined or returned no image: change the prompt.";
    case "login_required":
      return "The server's Codex login needs `codex login` again (see `codex-img doctor`).";
    default:
      return undefined;
  }
}

function buildProgram(ctx: CliContext, setExit: (code: number) => void): Command {
  const program = new Command("codex-img")
    .description(
      "Generate and edit images through a codex-img server (or the local Codex login with --local).",
    )
    .version(CLI_VERSION)
    .option(
      "--base-url <url>",
      "server URL (default from CODEX_IMG_BASE_URL, the config folder, then http://127.0.0.1:8000)",
    )
    .option("--api-key-file <path>", "read the API key from this file")
    .addOption(new Option("--api-key <key>").hideHelp())
    .addOption(new Option("--token <key>").hideHelp())
    .addHelpText("after", `\n${CREDENTIALS_HELP}\n\n${EXIT_CODE_HELP}\n`)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    })
    .hook("preAction", (_program, action) => {
      const flags = action.optsWithGlobals() as { apiKey?: string; token?: string };
      if (flags.apiKey !== undefined || flags.token !== undefined) {
        throw new CliError(
          EXIT.usage,
          "--api-key is refused: a key on a command line leaks into shell history, process lists and agents' " +
            "transcripts. Agents must never put a token on a command line. Use --api-key-file PATH, " +
            "CODEX_IMG_API_KEY, or ~/.config/codex-img/api-key (chmod 600).",
        );
      }
    });

  const global = (command: Command): GlobalFlags => {
    const all = command.optsWithGlobals() as GlobalFlags;
    return {
      ...(all.baseUrl ? { baseUrl: all.baseUrl } : {}),
      ...(all.apiKeyFile ? { apiKeyFile: all.apiKeyFile } : {}),
    };
  };
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

  const imageOptions = (command: Command): Command =>
    command
      .option("-o, --output <path>", "file name, or a folder (existing or ending in /)")
      .option("--size <WxH>", "1024x1024, 1536x1024, 1024x1536, 2048x2048, ... or auto")
      .option("--quality <q>", "auto, low, medium or high")
      .option("--format <format>", "png, jpeg or webp (default: the -o extension, else png)")
      .option("--json", "print a JSON object instead of paths")
      .option("--quiet", "no progress on stderr")
      .option("--force", "replace an existing file")
      .option("--local", "use this machine's Codex login (CODEX_HOME) instead of a server");

  imageOptions(
    program
      .command("generate")
      .description("generate images from a prompt and print where they were saved")
      .argument("<prompt>", "what to draw"),
  )
    .option("-n, --count <n>", "number of images (1-10)")
    .action(async (prompt: string, flags: GenerateFlags & { count?: string }, command: Command) => {
      const { count, ...rest } = flags;
      await runGenerate(
        ctx,
        prompt,
        { ...rest, ...(count === undefined ? {} : { n: count }) },
        global(command),
      );
    });

  imageOptions(
    program
      .command("edit")
      .description("edit or combine reference images (-i, repeatable) following a prompt; saves a PNG")
      .argument("<prompt>", "what to make of the images"),
  )
    .requiredOption("-i, --input <file>", "reference image (PNG, JPEG or WebP); repeat for several", collect)
    .action(async (prompt: string, flags: GenerateFlags, command: Command) => {
      await runGenerate(ctx, prompt, flags, global(command));
    });

  const jobs = program.command("jobs").description("your jobs on the server");
  jobs
    .command("list")
    .description("newest first")
    .option("--limit <n>", "1-100", "20")
    .option("--status <state>", "queued, running, succeeded, failed, canceled or expired")
    .option("--json", "print the server's JSON")
    .action(async (flags: { limit?: string; status?: string; json?: boolean }, command: Command) => {
      await runJobsList(ctx, flags, global(command));
    });
  jobs
    .command("get")
    .description("the whole job as JSON")
    .argument("<id>")
    .action(async (id: string, _flags: unknown, command: Command) => {
      await runJobsGet(ctx, id, global(command));
    });
  jobs
    .command("cancel")
    .description("cancel a queued or running job")
    .argument("<id>")
    .action(async (id: string, _flags: unknown, command: Command) => {
      await runJobsCancel(ctx, id, global(command));
    });

  const keys = program.command("keys").description("API keys (admin)");
  keys
    .command("create")
    .description("create a key and print it once on stdout")
    .argument("<name>")
    .option("--scopes <list>", "comma-separated: generate, edit, jobs:read, admin", "generate,edit,jobs:read")
    .option("--requests-per-minute <n>")
    .option("--images-per-day <n>")
    .option("--images-per-month <n>")
    .option("--vision-per-day <n>", "questions about images per UTC day")
    .option("--vision-per-month <n>", "questions about images per UTC month")
    .option("--max-concurrent <n>", "queued and running jobs at once")
    .option("--json", "print the key record and the raw key as JSON")
    .action(async (name: string, flags: Parameters<typeof runKeysCreate>[2], command: Command) => {
      await runKeysCreate(ctx, name, flags, global(command));
    });
  keys
    .command("list")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      await runKeysList(ctx, flags, global(command));
    });
  for (const [name, enabled] of [
    ["disable", false],
    ["enable", true],
  ] as const) {
    keys
      .command(name)
      .argument("<id>")
      .action(async (id: string, _flags: unknown, command: Command) => {
        await runKeysSetEnabled(ctx, id, enabled, global(command));
      });
  }
  keys
    .command("rotate")
    .description("replace a key's secret; prints the new key once")
    .argument("<id>")
    .action(async (id: string, _flags: unknown, command: Command) => {
      await runKeysRotate(ctx, id, global(command));
    });
  keys
    .command("delete")
    .description("delete a key (its history stays)")
    .argument("<id>")
    .action(async (id: string, _flags: unknown, command: Command) => {
      await runKeysDelete(ctx, id, global(command));
    });

  program
    .command("accounts")
    .description("the server's Codex accounts: state, quota left, activity (admin)")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      await runAccounts(ctx, flags, global(command));
    });

  program
    .command("serve")
    .description("start the codex-img server of this checkout; flags go to it (codex-img serve --port 8000)")
    .argument("[flags...]")
    .allowUnknownOption()
    .action(async (flags: string[]) => {
      setExit(await runServe(flags, { ...process.env, ...ctx.env }));
    });

  program
    .command("doctor")
    .description("check local Codex logins, token freshness, the server and the key")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      setExit(await runDoctor(ctx, flags, global(command)));
    });

  return program;
}
