const MAX_ERROR_LENGTH = 4000;

/**
 * Records why the last try failed in the row's ExtraProperties (ABP's JSON extension bag), keeping
 * whatever else the bag holds. A bag that is not a JSON object is kept under "OriginalExtraProperties".
 */
export function withLastError(extraProperties: string, error: unknown, tryCount: number, now: Date): string {
  let bag: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(extraProperties || '{}');
    if (parsed === null) bag = {};
    else if (typeof parsed === 'object' && !Array.isArray(parsed)) bag = parsed as Record<string, unknown>;
    else bag = { OriginalExtraProperties: parsed };
  } catch {
    bag = { OriginalExtraProperties: extraProperties };
  }
  bag.LastError = describeError(error).slice(0, MAX_ERROR_LENGTH);
  bag.LastErrorTime = now.toISOString();
  bag.LastErrorTryCount = tryCount;
  return JSON.stringify(bag);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  // Jobs written in plain JS throw object literals too; "[object Object]" would lose what they say.
  if (error !== null && typeof error === 'object') {
    try {
      return JSON.stringify(error);
    } catch {
      return String(error);
    }
  }
  return String(error);
}
