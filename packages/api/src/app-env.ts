import type { Logger } from "@codex-img/core";
import type { ApiKeyRecord } from "@codex-img/db";
import type { ServerBindings } from "./http/admin-session.js";

/** Who is calling: set by the key middleware before any handler runs. */
export interface Caller {
  key: ApiKeyRecord;
}

/** Hono's environment for every route: what the server adapter binds, and typed context variables. */
export interface AppEnv {
  /** `c.env`; absent (undefined) when the app is called without bindings, as `app.request()` in tests. */
  Bindings: ServerBindings;
  Variables: {
    caller: Caller;
    /** Echoed as `x-request-id` and written to logs. */
    requestId: string;
    /** The services' logger, so error handlers without the services can log unexpected failures. */
    logger: Logger;
    /** Set by the request door: returns the request's body reservation once the route holds no bytes of it. */
    handOffBody?: () => void;
    /** Set by the request door: counts bytes decoded from the body against the budget (see `holdBeyondBody`). */
    holdBeyondBody?: (bytes: number) => void;
  };
}
