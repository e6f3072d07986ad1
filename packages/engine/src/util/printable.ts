/**
 * Text that a user, a file or a plugin wrote (a name, an unknown key, a value,
 * a file name, a `--param` value), made safe to print on a terminal. Control
 * characters become visible escapes, so a name cannot clear the screen, move
 * the cursor, recolour the output or forge a line of its own: newline, return
 * and tab as JSON writes them (`\n`, `\r`, `\t`), the other C0 and C1 controls
 * and DEL as `\xNN`, and Unicode's line separators and bidirectional controls
 * (which reorder what a terminal shows) as `\uNNNN`. Everything else, a
 * backslash included, is left as it is, so plain names print unchanged.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every control character escaped (see above); O(length), and the same string when there is none. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return SHORT[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
  });
}
