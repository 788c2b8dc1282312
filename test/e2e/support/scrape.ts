/** One scrape of a /metrics page: each sample by its series as written (`name{label="value",...}`). */
export class Scrape {
  private readonly samples = new Map<string, number>();

  constructor(readonly text: string) {
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const at = line.lastIndexOf(' ');
      this.samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  }

  /** The sample of `name` with exactly these labels (in the order prom-client writes them); undefined when absent. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const pairs = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
    return this.samples.get(pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`);
  }

  /** As value(), with an absent series read as 0 (a counter nothing has touched yet). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.value(name, labels) ?? 0;
  }

  has(name: string): boolean {
    return [...this.samples.keys()].some((series) => series === name || series.startsWith(`${name}{`));
  }
}

/** GETs `<baseUrl>/metrics` and reads it; fails on any answer but 200. */
export async function scrape(baseUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`, { headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${response.status}: ${text}`);
  expectPrometheusText(response.headers.get('content-type'));
  return new Scrape(text);
}

function expectPrometheusText(contentType: string | null): void {
  if (!contentType?.startsWith('text/plain; version=0.0.4'))
    throw new Error(`/metrics answered with content type ${contentType}, not Prometheus text`);
}
