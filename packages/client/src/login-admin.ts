import type { AdminSession } from "./codex-img-client.js";
import { errorFromResponse, errorFromTrpc } from "./errors.js";
import { networkError } from "./network-error.js";

/** Logs in as the admin through tRPC `auth.login` and returns what admin calls need. */
export async function loginAdmin(options: {
  baseUrl: string;
  password: string;
  fetch?: typeof fetch;
}): Promise<AdminSession> {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let response: Response;
  try {
    response = await doFetch(`${baseUrl}/trpc/auth.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: options.password }),
    });
  } catch (error) {
    throw networkError(baseUrl, error, undefined);
  }
  const body = (await response.json().catch(() => undefined)) as
    | { result?: { data?: { csrfToken?: string } }; error?: { message?: string; data?: unknown } }
    | undefined;
  const csrfToken = body?.result?.data?.csrfToken;
  if (!response.ok || !csrfToken) {
    if (body?.error) throw errorFromTrpc({ message: body.error.message, data: body.error.data });
    throw await errorFromResponse(response);
  }
  const cookies = response.headers.getSetCookie?.() ?? [response.headers.get("set-cookie") ?? ""];
  const cookie = cookies
    .map((line) => line.split(";")[0]?.trim() ?? "")
    .filter((pair) => pair.includes("=") && !pair.endsWith("="))
    .join("; ");
  return { cookie, csrfToken };
}
