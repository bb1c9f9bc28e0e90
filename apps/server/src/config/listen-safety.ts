import { isIP } from "node:net";
import { CodexImgError } from "@codex-img/core";
import type { Config } from "./settings.js";

/** Shorter admin passwords are refused beyond loopback. */
export const MIN_ADMIN_PASSWORD_LENGTH = 12;

// Compared after lowercasing and dropping everything but letters and digits, so `Change-Me!` matches.
const KNOWN_DEFAULTS = new Set([
  "changeme",
  "admin",
  "password",
  "secret",
  "letmein",
  "adminadmin",
  "administrator",
  "admin123",
  "admin1234",
  "password1",
  "password123",
  "passw0rd",
  "qwerty",
  "qwertyuiop",
  "123456",
  "12345678",
  "123456789",
  "1234567890",
  "123456789012",
  "yourpassword",
  "youradminpassword",
  "adminpassword",
  "replaceme",
  "codeximg",
  "codeximage",
]);
// Template phrases left in `.env` files ("change-me-to-a-long-random-string").
const TEMPLATE_WORDS = ["changeme", "replaceme", "changethis", "yourpassword", "putyour", "setme"];

/** Whether `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  const v4 = bare.startsWith("::ffff:") ? bare.slice(7) : bare;
  if (isIP(v4) === 4) return v4.startsWith("127.");
  if (isIP(bare) === 6) return /^(0{0,4}:){1,7}0{0,3}1$/.test(bare) || bare === "::1";
  return false;
}

/** Why a password is too weak to guard a reachable server, or undefined when it is fine. */
export function adminPasswordWeakness(password: string | undefined): string | undefined {
  if (password === undefined || password.trim() === "") return "is empty";
  if (password.length < MIN_ADMIN_PASSWORD_LENGTH) {
    return `is shorter than ${MIN_ADMIN_PASSWORD_LENGTH} characters`;
  }
  const folded = password.toLowerCase().replace(/[^a-z0-9]/g, "");
  if (KNOWN_DEFAULTS.has(folded) || TEMPLATE_WORDS.some((word) => folded.includes(word))) {
    return "is a known default or template value";
  }
  if (new Set(password).size <= 2) return "repeats one or two characters";
  return undefined;
}

export interface ListenSafety {
  safe: boolean;
  loopback: boolean;
  /** Why listening is refused; names the variable, never quotes the password. */
  reason?: string;
}

/** The check behind `assertSafeToListen`, for reports that must not throw (doctor, preflight). */
export function checkListenSafety(config: Pick<Config, "host" | "port" | "adminPassword">): ListenSafety {
  const loopback = isLoopbackHost(config.host);
  if (loopback) return { safe: true, loopback };
  const weakness = adminPasswordWeakness(config.adminPassword);
  if (weakness === undefined) return { safe: true, loopback };
  return {
    safe: false,
    loopback,
    reason:
      `Refusing to listen on ${config.host}:${config.port}: ADMIN_PASSWORD (or CODEX_IMG_ADMIN_PASSWORD) ${weakness}. ` +
      `Anyone who can reach this address could open the dashboard. Set a password of at least ` +
      `${MIN_ADMIN_PASSWORD_LENGTH} characters that is not a default, or listen on 127.0.0.1.`,
  };
}

/** Refuses to serve beyond loopback unless the dashboard has a real password. */
export function assertSafeToListen(config: Pick<Config, "host" | "port" | "adminPassword">): void {
  const safety = checkListenSafety(config);
  if (safety.safe) return;
  throw new CodexImgError("invalid_request", safety.reason ?? "Refusing to listen.", {
    details: { param: "ADMIN_PASSWORD", host: config.host },
  });
}
