/** One line of figures per test, in the jest output, so a run can be compared with the last. */
export function report(
  test: string,
  figures: Record<string, string | number | boolean | object | null | undefined>,
): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  process.stdout.write(`[scale] ${test}: ${text}\n`);
}
