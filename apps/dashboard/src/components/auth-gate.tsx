"use client";

import { useQuery } from "@tanstack/react-query";
import { usePathname, useRouter } from "next/navigation";
import { type ReactNode, useEffect } from "react";
import { isUnauthorized } from "@/lib/api-error";
import { queryKeys } from "@/lib/query-keys";
import { rememberReturnPath } from "@/lib/return-path";
import { trpc } from "@/lib/trpc-client";
import { AppHeader } from "./app-header";
import { ErrorBanner } from "./error-banner";

/** Every page but the sign-in form: shown only with a live admin session (`auth.me`). */
export function AuthGate({ children }: { children: ReactNode }) {
  const router = useRouter();
  const pathname = usePathname();
  const me = useQuery({
    queryKey: queryKeys.me,
    queryFn: () => trpc().auth.me.query(),
    retry: false,
    staleTime: 60_000,
  });
  const signedOut = me.isError && isUnauthorized(me.error);

  useEffect(() => {
    if (!signedOut) return;
    // Come back to this page (and its query string, e.g. a job id) after signing in.
    rememberReturnPath(`${pathname}${window.location.search}`);
    router.replace("/login/");
  }, [signedOut, pathname, router]);

  if (me.isSuccess) {
    return (
      <>
        <AppHeader />
        <main className="mx-auto w-full max-w-7xl flex-1 px-3 py-4 sm:px-6">{children}</main>
      </>
    );
  }
  return (
    <main className="mx-auto w-full max-w-md flex-1 px-4 py-16">
      {me.isError && !signedOut ? (
        <ErrorBanner title="Cannot reach the server" error={me.error} onRetry={() => void me.refetch()} />
      ) : (
        <p role="status" className="text-center text-zinc-500">
          {signedOut ? "Redirecting to sign in…" : "Checking your session…"}
        </p>
      )}
    </main>
  );
}
