const MAX_ERROR_LENGTH = 4000;

/**
 * Records why the last try failed in the row's ExtraProperties (ABP's JSON extension bag), keeping
 * whatever else the bag holds. A bag that is not a JSON object is kept under "OriginalExtraProperties".
 */
export function withLastError(extraProperties: string, error: unknown, tryCount: number, now: Date): string {
  const lastError = {
    LastError: describeError(error).slice(0, MAX_ERROR_LENGTH),
    LastErrorTime: now.toISOString(),
    LastErrorTryCount: tryCount,
  };
  try {
    return JSON.stringify(Object.assign(bagOf(extraProperties), lastError));
  } catch {
    // JSON nested deeper than JSON.stringify can recurse parses but cannot be written back: keep it as text.
    return JSON.stringify({ OriginalExtraProperties: String(extraProperties), ...lastError });
  }
}

/** ExtraProperties as an object: empty for '' or null, anything else that is not an object kept under OriginalExtraProperties. */
export function bagOf(extraProperties: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(extraProperties || '{}');
    if (parsed === null) return {};
    if (typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return { OriginalExtraProperties: parsed };
  } catch {
    return { OriginalExtraProperties: extraProperties };
  }
}

export function describeError(error: unknown): string {
  try {
    return describe(error);
  } catch {
    // A getter or toString that throws (a Proxy, an object without a prototype).
    return Object.prototype.toString.call(error);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  // Jobs written in plain JS throw object literals too; "[object Object]" would lose what they say.
  if (error !== null && typeof error === 'object') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- an object JSON writes as nothing falls back to its own toString
      return JSON.stringify(error) ?? String(error); // undefined from a toJSON that returns nothing
    } catch {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- as above, for one JSON cannot write at all (cyclic, a throwing toJSON)
      return String(error);
    }
  }
  return String(error);
}
