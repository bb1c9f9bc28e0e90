/** The image types the server accepts as references. */
export const REFERENCE_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;
export const MAX_REFERENCES = 16;

/** A file as a `data:` URL, the form `images.generate` takes references in. */
export function readDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error(`Could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}
