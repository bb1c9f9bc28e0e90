import { buttonClass } from "./ui-classes";

export function Pager({
  page,
  hasPrevious,
  nextCursor,
  onPrevious,
  onNext,
}: {
  page: number;
  hasPrevious: boolean;
  nextCursor: string | null | undefined;
  onPrevious: () => void;
  onNext: (cursor: string) => void;
}) {
  return (
    <nav aria-label="Pages" className="flex items-center gap-2">
      <button type="button" className={buttonClass} disabled={!hasPrevious} onClick={onPrevious}>
        Previous page
      </button>
      <span className="text-sm text-zinc-500">Page {page}</span>
      <button
        type="button"
        className={buttonClass}
        disabled={!nextCursor}
        onClick={() => {
          if (nextCursor) onNext(nextCursor);
        }}
      >
        Next page
      </button>
    </nav>
  );
}
