/** C0 and C1 control characters (and DEL): never allowed in a name, greeting or label. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether `text` holds a control character (the server refuses such text with 400). */
export function hasControlChars(text: string): boolean {
  return CONTROL.test(text);
}
