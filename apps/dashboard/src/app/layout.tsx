import type { Metadata, Viewport } from "next/types";
import type { ReactNode } from "react";
import { Providers } from "@/components/providers";
import "./globals.css";

export const metadata: Metadata = {
  title: "codex-img admin",
  description: "The owner's dashboard of codex-img.",
  robots: { index: false, follow: false },
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  colorScheme: "light dark",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  // The page colours are plain sRGB (zinc-50 / zinc-950) rather than Tailwind 4's oklch, so anything
  // reading the computed background (screenshot checks, contrast tools) gets an rgb() value.
  return (
    <html lang="en">
      <body className="flex min-h-screen flex-col bg-[#fafafa] text-zinc-900 antialiased dark:bg-[#09090b] dark:text-zinc-100">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
