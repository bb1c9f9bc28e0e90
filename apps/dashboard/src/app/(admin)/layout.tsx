import type { ReactNode } from "react";
import { AuthGate } from "@/components/auth-gate";

/** The signed-in sections share the header and the session check; `/login/` stays outside this group. */
export default function AdminLayout({ children }: { children: ReactNode }) {
  return <AuthGate>{children}</AuthGate>;
}
