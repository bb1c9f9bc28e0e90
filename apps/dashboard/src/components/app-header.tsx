"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { rememberCsrfToken } from "@/lib/csrf-token";
import { rememberReturnPath } from "@/lib/return-path";
import { trpc } from "@/lib/trpc-client";
import { buttonClass } from "./ui-classes";

const NAV = [
  { href: "/", label: "Overview" },
  { href: "/accounts/", label: "Accounts" },
  { href: "/usage/", label: "Usage" },
  { href: "/keys/", label: "Keys" },
  { href: "/playground/", label: "Playground" },
  { href: "/history/", label: "History" },
  { href: "/audit/", label: "Audit" },
  { href: "/settings/", label: "Settings" },
] as const;

function isActive(pathname: string, href: string): boolean {
  const path = pathname.endsWith("/") ? pathname : `${pathname}/`;
  return href === "/" ? path === "/" : path.startsWith(href);
}

/** Product name, the sections (they wrap on a phone rather than hide), and sign out. */
export function AppHeader() {
  const pathname = usePathname();
  const router = useRouter();
  const queryClient = useQueryClient();
  const logout = useMutation({
    mutationFn: () => trpc().auth.logout.mutate(),
    // Signed out either way: a failed logout (session already gone) still ends here.
    onSettled: () => {
      rememberCsrfToken(undefined);
      rememberReturnPath(null);
      queryClient.clear();
      router.replace("/login/");
    },
  });

  return (
    <header className="border-b border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
      <div className="mx-auto flex w-full max-w-7xl flex-wrap items-center gap-x-4 gap-y-2 px-3 py-2 sm:px-6">
        <Link href="/" className="font-semibold tracking-tight">
          codex-img <span className="font-normal text-zinc-500">admin</span>
        </Link>
        <nav aria-label="Main" className="order-3 w-full sm:order-none sm:w-auto sm:flex-1">
          <ul className="flex flex-wrap gap-1">
            {NAV.map((item) => {
              const active = isActive(pathname, item.href);
              return (
                <li key={item.href}>
                  <Link
                    href={item.href}
                    aria-current={active ? "page" : undefined}
                    className={`block rounded-md px-2.5 py-1.5 text-sm ${
                      active
                        ? "bg-sky-100 font-medium text-sky-900 dark:bg-sky-900 dark:text-sky-100"
                        : "text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
                    }`}
                  >
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <button
          type="button"
          className={`${buttonClass} ml-auto sm:ml-0`}
          onClick={() => logout.mutate()}
          disabled={logout.isPending}
        >
          Sign out
        </button>
      </div>
    </header>
  );
}
