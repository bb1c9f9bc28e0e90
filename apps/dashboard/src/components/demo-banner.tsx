/** The demo backend draws placeholders; say so before anyone wonders about the images. */
export function DemoBanner() {
  return (
    <div
      role="status"
      data-testid="demo-banner"
      className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100"
    >
      Demo backend: images are placeholders. Run <code className="font-mono">codex login</code> and restart to
      use your ChatGPT plan.
    </div>
  );
}
