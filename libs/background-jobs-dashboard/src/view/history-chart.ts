import type { HistoryPoint } from '@app/background-jobs/admin/background-jobs-admin.types';

export interface ChartBar {
  x: number;
  y: number;
  height: number;
  kind: 'succeeded' | 'failed';
  /** The tooltip (an SVG <title>): the minute and its count. */
  title: string;
}

export interface HistoryChart {
  width: number;
  height: number;
  barWidth: number;
  bars: ChartBar[];
  /** The top of the scale, labelled at the top left. */
  max: number;
  succeeded: number;
  failed: number;
  /** The first and last minute, under the chart. */
  from: string;
  to: string;
}

const WIDTH = 960;
const HEIGHT = 120;
const TOP = 14;

/**
 * The last hour as an SVG bar chart drawn on the server (no script): one bar a minute, failed
 * stacked on succeeded. Only numbers and escaped text go into the template.
 */
export function historyChart(points: HistoryPoint[]): HistoryChart {
  const sorted = [...points].sort((a, b) => a.minute.localeCompare(b.minute));
  const max = Math.max(1, ...sorted.map((p) => p.succeeded + p.failed));
  const slot = WIDTH / Math.max(60, sorted.length);
  const barWidth = Math.max(1, slot - 2);
  const scale = (HEIGHT - TOP) / max;
  const bars: ChartBar[] = [];
  sorted.forEach((point, i) => {
    const x = round(i * slot + 1);
    const succeededHeight = round(point.succeeded * scale);
    const failedHeight = round(point.failed * scale);
    const minute = minuteLabel(point.minute);
    if (point.succeeded > 0) {
      bars.push({
        x,
        y: round(HEIGHT - succeededHeight),
        height: succeededHeight,
        kind: 'succeeded',
        title: `${minute}: ${point.succeeded} succeeded`,
      });
    }
    if (point.failed > 0) {
      bars.push({
        x,
        y: round(HEIGHT - succeededHeight - failedHeight),
        height: failedHeight,
        kind: 'failed',
        title: `${minute}: ${point.failed} failed`,
      });
    }
  });
  return {
    width: WIDTH,
    height: HEIGHT,
    barWidth: round(barWidth),
    bars,
    max,
    succeeded: sorted.reduce((sum, p) => sum + p.succeeded, 0),
    failed: sorted.reduce((sum, p) => sum + p.failed, 0),
    from: sorted.length ? minuteLabel(sorted[0].minute) : '',
    to: sorted.length ? minuteLabel(sorted[sorted.length - 1].minute) : '',
  };
}

function minuteLabel(minute: string): string {
  const time = new Date(minute);
  return Number.isNaN(time.getTime()) ? minute : `${time.toISOString().slice(11, 16)} UTC`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
