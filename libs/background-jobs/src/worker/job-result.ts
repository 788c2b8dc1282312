import { bagOf, describeError } from './last-error';

/** The most characters of a result's JSON kept in ExtraProperties.Result. */
export const MAX_RESULT_LENGTH = 64 * 1024;

/**
 * The row's ExtraProperties with the job's result added as `Result` (JSON in the JSON bag), for a
 * succeeded job whose row is kept; null when there is nothing to add (no result), so the bag is
 * written as it is. A result whose JSON is longer than MAX_RESULT_LENGTH is kept as the text of its
 * first MAX_RESULT_LENGTH characters, and one JSON cannot write (a BigInt, a cycle) not at all;
 * `ResultNote` says which. The job succeeded either way.
 */
export function withResult(extraProperties: string, result: unknown): string | null {
  if (result === undefined) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    return write(extraProperties, { ResultNote: `The result is not JSON-serialisable: ${describeError(error)}` });
  }
  if (json === undefined) return null; // a function or symbol: nothing JSON can hold
  if (json.length <= MAX_RESULT_LENGTH) return write(extraProperties, { Result: result });
  return write(extraProperties, {
    Result: json.slice(0, MAX_RESULT_LENGTH),
    ResultNote: `The result's JSON is ${json.length} characters long; the first ${MAX_RESULT_LENGTH} are kept, as text`,
  });
}

function write(extraProperties: string, properties: Record<string, unknown>): string {
  const bag = bagOf(extraProperties);
  delete bag.Result;
  delete bag.ResultNote;
  try {
    return JSON.stringify(Object.assign(bag, properties));
  } catch {
    // A bag nested deeper than JSON.stringify can recurse: keep it as text, as withLastError does.
    return JSON.stringify({ OriginalExtraProperties: String(extraProperties), ...properties });
  }
}
