/**
 * A statement chosen as a deadlock victim was rolled back whole, so running it again is safe.
 * Claims skip locked rows, but a claim and a DELETE of other rows can still meet on an index page.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, isDeadlock: (error: unknown) => boolean, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isDeadlock(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
    }
  }
}

/** Ids per statement: long IN lists and OPENJSON joins stay small, and SQL Server never escalates to a table lock. */
export const MAX_IDS_PER_STATEMENT = 1000;

export function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
