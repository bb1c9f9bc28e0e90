import Link from "next/link";
import { AuthGate } from "@/components/auth-gate";
import { PageHeading } from "@/components/page-heading";
import { linkClass, panelClass } from "@/components/ui-classes";

/** Any unknown address under /admin/: the usual header and a way back, not the framework's bare page. */
export default function NotFound() {
  return (
    <AuthGate>
      <PageHeading title="Page not found" />
      <div data-testid="not-found" className={`${panelClass} space-y-2 text-sm`}>
        <p>There is no dashboard page at this address.</p>
        <p>
          <Link href="/" className={linkClass}>
            Back to the overview
          </Link>
        </p>
      </div>
    </AuthGate>
  );
}
