import { isRecord, nonEmptyString } from "../json-values.js";

/** What codex-img reads from a Codex id/access token (upstream.md §1). Signatures are not checked. */
export interface JwtClaims {
  email?: string;
  /** `chatgpt_plan_type`, kept verbatim so newer plans still show. */
  plan?: string;
  /** `chatgpt_account_id`. */
  accountId?: string;
  /** `exp` in epoch milliseconds. */
  expiresAt?: number;
}

const AUTH_CLAIM = "https://api.openai.com/auth";
const PROFILE_CLAIM = "https://api.openai.com/profile";

/** The payload of a JWT as an object, or undefined when the token is not a readable JWT. */
export function decodeJwtPayload(token: string | undefined): Record<string, unknown> | undefined {
  const segment = token?.split(".")[1];
  if (!segment) return undefined;
  try {
    const base64 = segment.replaceAll("-", "+").replaceAll("_", "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return isRecord(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}

export function readJwtClaims(token: string | undefined): JwtClaims {
  const payload = decodeJwtPayload(token);
  if (!payload) return {};
  const auth = isRecord(payload[AUTH_CLAIM]) ? payload[AUTH_CLAIM] : {};
  const profile = isRecord(payload[PROFILE_CLAIM]) ? payload[PROFILE_CLAIM] : {};
  const email = nonEmptyString(payload.email) ?? nonEmptyString(profile.email);
  const plan = nonEmptyString(auth.chatgpt_plan_type);
  const accountId = nonEmptyString(auth.chatgpt_account_id);
  const exp = payload.exp;
  return {
    ...(email === undefined ? {} : { email }),
    ...(plan === undefined ? {} : { plan }),
    ...(accountId === undefined ? {} : { accountId }),
    ...(typeof exp === "number" && Number.isFinite(exp) ? { expiresAt: exp * 1000 } : {}),
  };
}
