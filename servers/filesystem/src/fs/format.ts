const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** Human-readable size, in the same format as the reference filesystem server ("1.50 KB"). */
export function formatSize(bytes: number): string {
  if (bytes <= 0) return "0 B";
  const i = Math.floor(Math.log(bytes) / Math.log(1024));
  if (i <= 0) return `${bytes} B`;
  const unit = Math.min(i, UNITS.length - 1);
  return `${(bytes / 1024 ** unit).toFixed(2)} ${UNITS[unit]}`;
}

/** Permission bits as three octal digits ("644"). */
export function permissionBits(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, "0");
}
