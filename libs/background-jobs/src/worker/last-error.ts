const MAX_ERROR_LENGTH = 4000;

/**
 * Records why the last try failed in the row's ExtraProperties (ABP's JSON extension bag), keeping
 * whatever else the bag holds. A bag that is not a JSON object is kept under "OriginalExtraProperties".
 */
export function withLastError(extraProperties: string, error: unknown, tryCount: number, now: Date): string {
  let bag: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(extraProperties || '{}');
    bag = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { OriginalExtraProperties: parsed };
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
  return String(error);
}
