/**
 * Saves text as a file in the browser (H5 only): a Blob, an object URL and a temporary
 * `<a download>` clicked once. The mini-program has no such download; callers offer it on H5.
 */
export function saveTextFile(filename: string, text: string, type = 'text/csv;charset=utf-8'): boolean {
  if (
    process.env.TARO_ENV !== 'h5' ||
    typeof document === 'undefined' ||
    typeof URL === 'undefined' ||
    typeof URL.createObjectURL !== 'function'
  )
    return false;
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoked a little later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return true;
}
