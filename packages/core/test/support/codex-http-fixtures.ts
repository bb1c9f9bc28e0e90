import type {
  BackendEvent,
  CodexCredentials,
  CredentialProvider,
  GenerateOptions,
  ImageSink,
  ImageStore,
} from "@codex-img/core";
import { CODEX_CLI_VERSION, createExactFetch } from "@codex-img/core";
import { mintFakeTokens } from "@codex-img/core/testing";

/** A credential provider that hands out a fixed token, and a second one after a 401. */
export interface RecordingCredentials extends CredentialProvider {
  readonly tokens: CodexCredentials[];
  readonly recoveries: string[];
}

export function recordingCredentials(
  options: { accountId?: string; failRecovery?: Error } = {},
): RecordingCredentials {
  const accountId = options.accountId ?? "acct-test-1";
  const tokens = [0, 1, 2].map(() => ({ accessToken: mintFakeTokens({ accountId }).accessToken, accountId }));
  const recoveries: string[] = [];
  let current = 0;
  return {
    tokens,
    recoveries,
    async get() {
      return tokens[current] as CodexCredentials;
    },
    async recoverFromUnauthorized(failedAccessToken) {
      recoveries.push(failedAccessToken);
      if (options.failRecovery) throw options.failRecovery;
      current += 1;
      return tokens[current] as CodexCredentials;
    },
  };
}

/** Generate options for one account, collecting events. */
export function accountOptions(
  credentials: CredentialProvider,
  label = "work",
  extra: Omit<GenerateOptions, "account" | "onEvent"> = {},
): GenerateOptions & { events: BackendEvent[] } {
  const events: BackendEvent[] = [];
  return { account: { label, credentials }, onEvent: (event) => events.push(event), events, ...extra };
}

/** Awaits a rejection and returns the error. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

export const OS_INFO = { os: "Debian", osVersion: "12.0.0", arch: "x86_64", terminal: "xterm" };

/** The identity the official CLI 0.169.0 had when the golden record was captured. */
export const TEST_CLIENT = { version: CODEX_CLI_VERSION, osInfo: OS_INFO };

/** Sends the headers exactly as given (the fake fails any request that differs from the CLI's). */
export const exactFetch = createExactFetch();

/** A sink writing into `store` that calls `onChunk` as each chunk of an image is written. */
export function watchedSink(store: ImageStore, onChunk: () => void): ImageSink {
  return {
    delete: (key) => store.delete(key),
    stream: (key) => store.stream(key),
    putStream: (source, options) =>
      store.putStream(
        (async function* () {
          for await (const chunk of source as AsyncIterable<Uint8Array>) {
            onChunk();
            yield chunk;
          }
        })(),
        options,
      ),
  };
}
