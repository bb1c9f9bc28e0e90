import type { CodexCliBackendOptions, CodexCliSandbox } from "./codex-cli-options.js";

export interface ExecArgsInput {
  sandbox: CodexCliSandbox;
  /** The run's fresh work folder (`-C`). */
  workDir: string;
  ephemeral: boolean;
  /** `-m`, when set. */
  model: string | undefined;
  /** Image files passed with `-i`. */
  files: readonly string[];
  prompt: string;
}

/**
 * The `codex exec` argument list of one run, image or vision alike: the sandbox, the work folder, JSON
 * lines, `--ephemeral`, the model, the `-c` overrides (strings as TOML strings), the images, and the
 * prompt after `--`.
 */
export function buildExecArgs(options: CodexCliBackendOptions, input: ExecArgsInput): string[] {
  const args = ["exec", "--skip-git-repo-check"];
  if (input.sandbox === "bypass") args.push("--dangerously-bypass-approvals-and-sandbox");
  else args.push("-s", "read-only");
  args.push("-C", input.workDir, "--json");
  if (input.ephemeral) args.push("--ephemeral");
  if (input.model) args.push("-m", input.model);
  for (const [key, value] of Object.entries(options.config ?? {})) {
    args.push("-c", `${key}=${typeof value === "string" ? JSON.stringify(value) : String(value)}`);
  }
  for (const path of input.files) args.push("-i", path);
  // `-i` takes several values: `--` ends them so the prompt is never read as a file.
  args.push("--", input.prompt);
  return args;
}
