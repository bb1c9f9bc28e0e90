"use client";

import { useCallback, useState } from "react";

interface Pages {
  /** Cursors of the pages before this one (`undefined` = the first page). */
  stack: Array<string | undefined>;
  cursor: string | undefined;
}

const FIRST: Pages = { stack: [], cursor: undefined };

/**
 * Keyset paging: the server hands out only a `nextCursor`, so the cursors of earlier pages are kept on a
 * stack to go back.
 */
export function useCursorPages() {
  const [pages, setPages] = useState<Pages>(FIRST);
  const next = useCallback(
    (nextCursor: string) => setPages((p) => ({ stack: [...p.stack, p.cursor], cursor: nextCursor })),
    [],
  );
  const previous = useCallback(
    () =>
      setPages((p) => (p.stack.length === 0 ? p : { stack: p.stack.slice(0, -1), cursor: p.stack.at(-1) })),
    [],
  );
  const reset = useCallback(() => setPages(FIRST), []);
  return {
    cursor: pages.cursor,
    page: pages.stack.length + 1,
    hasPrevious: pages.stack.length > 0,
    next,
    previous,
    reset,
  };
}
