import Image from "next/image";
import type { ImageView } from "@/lib/api-types";
import { formatBytes } from "@/lib/format-number";
import { linkClass } from "./ui-classes";

export function JobImages({ images }: { images: ImageView[] }) {
  if (images.length === 0) return <p className="text-sm text-zinc-500">No images.</p>;
  return (
    <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
      {images.map((image, index) => (
        <figure key={image.url} className="space-y-1">
          <a href={image.url} target="_blank" rel="noreferrer">
            <Image
              src={image.url}
              alt={image.revisedPrompt ?? `Image ${index + 1}`}
              width={image.width || 512}
              height={image.height || 512}
              className="h-auto w-full rounded border border-zinc-200 object-contain dark:border-zinc-700"
            />
          </a>
          <figcaption className="flex flex-wrap gap-x-3 text-xs text-zinc-500">
            <span>
              {image.width}×{image.height} {image.format} · {formatBytes(image.bytes)}
            </span>
            <a href={image.url} target="_blank" rel="noreferrer" className={linkClass}>
              Open
            </a>
            <a href={image.url} download className={linkClass}>
              Download
            </a>
          </figcaption>
        </figure>
      ))}
    </div>
  );
}
