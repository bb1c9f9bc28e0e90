import type { Job } from "@codex-img/core";
import type { Context } from "hono";

const JSON_TYPE = { "Content-Type": "application/json" };

/**
 * A route's JSON reply of a job, `c.json(await view(job))`, whose text is kept for a frozen job: the
 * finished job the store serves from memory (`JobQueue.getShared`) is one frozen object until it is
 * written or read again, so its reply cannot change while that object lives, and a client polling a
 * finished job costs a map lookup instead of a copy, a view and a `JSON.stringify` per request. Keyed
 * weakly by the object, so a reply goes with the cache entry it was made from.
 */
export function jobJsonReplies(
  view: (job: Readonly<Job>) => Promise<unknown>,
): (c: Context, job: Readonly<Job>) => Promise<Response> {
  const texts = new WeakMap<Readonly<Job>, string>();
  return async (c, job) => {
    let text = texts.get(job);
    if (text === undefined) {
      text = JSON.stringify(await view(job));
      if (Object.isFrozen(job)) texts.set(job, text);
    }
    return c.body(text, 200, JSON_TYPE);
  };
}
