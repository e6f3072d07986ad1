/**
 * Lookups by a name a user (or a plugin, or a file) gave. A plain object
 * answers `o[name]` from its prototype too: `hostTypes["constructor"]` is
 * `Object`, and `"toString" in hostTypes` is true. Every lookup of such a name
 * in a record goes through here, so only the record's own entries answer.
 */

/** The value `record` holds under `key` itself (never one inherited from its prototype), or undefined. O(1). */
export function own<T>(record: Readonly<Record<string, T>> | null | undefined, key: string): T | undefined {
  return record != null && Object.hasOwn(record, key) ? record[key] : undefined;
}
