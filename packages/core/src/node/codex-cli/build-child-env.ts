/** Environment variables copied from the parent because programs need them to run at all. */
const BASIC_VARIABLES = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TMPDIR",
  "SYSTEMROOT",
  // Trust stores are configuration, not secrets, and deployments behind TLS proxies need them.
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "CODEX_CA_CERTIFICATE",
];

export interface ChildEnvOptions {
  /** The parent's environment; only allow-listed names are read from it. */
  parentEnv: Record<string, string | undefined>;
  codexHome: string;
  /** Extra variable names to copy from the parent (proxies, for example). */
  allowList?: readonly string[];
  /** `CODEX_CA_CERTIFICATE` for the child (a PEM file), e.g. the throwaway CA of the test fake. */
  caCertificatePath?: string;
  /** `CODEX_REFRESH_TOKEN_URL_OVERRIDE` for the child. */
  refreshTokenUrl?: string;
}

/**
 * The whole environment of a `codex exec` child: basics, the account's home and nothing else. The
 * predecessor leaked its admin password and session secret into an agent with a shell; this is the fix.
 */
export function buildChildEnv(options: ChildEnvOptions): Record<string, string> {
  const env = basicChildEnv(options.parentEnv, options.allowList);
  // The CLI prints reset times ("try again at …") in local time; UTC makes them parseable.
  env.TZ = "UTC";
  env.CODEX_HOME = options.codexHome;
  if (options.caCertificatePath) env.CODEX_CA_CERTIFICATE = options.caCertificatePath;
  if (options.refreshTokenUrl) env.CODEX_REFRESH_TOKEN_URL_OVERRIDE = options.refreshTokenUrl;
  return env;
}

/**
 * Only the allow-listed basics of `parentEnv` (PATH, HOME, locale, trust stores): the environment of
 * every child process the service starts, `codex --version` probes included, so no service secret
 * (ADMIN_PASSWORD, API keys, database tokens) ever reaches a program we run.
 */
export function basicChildEnv(
  parentEnv: Record<string, string | undefined>,
  allowList: readonly string[] = [],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASIC_VARIABLES, ...allowList]) {
    const value = parentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
