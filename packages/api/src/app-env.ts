import type { Logger } from "@codex-img/core";
import type { ApiKeyRecord } from "@codex-img/db";

/** Who is calling: set by the key middleware before any handler runs. */
export interface Caller {
  key: ApiKeyRecord;
}

/** Hono's environment for every route: typed context variables. */
export interface AppEnv {
  Variables: {
    caller: Caller;
    /** Echoed as `x-request-id` and written to logs. */
    requestId: string;
    /** The services' logger, so error handlers without the services can log unexpected failures. */
    logger: Logger;
  };
}
