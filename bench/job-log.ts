import pino from 'pino';
import { JOB_LINE_MARKER } from './support/processes';

/**
 * The peers' job handler output: one pino JSON line per job on stdout, the same kind of line
 * ours writes through nestjs-pino (`{"level":30,"time":...,"context":"MyReportJob","msg":"Executing MyReportJob with args: ..."}`).
 */
const logger = pino();

export function logJob(content: unknown): void {
  logger.info({ context: 'MyReportJob' }, `${JOB_LINE_MARKER}${String(content)}`);
}

/** A job line's `time` (epoch ms), if the line is the job line for `content`. */
export function jobLineTime(line: string, content: string): number | undefined {
  if (!line.includes(`${JOB_LINE_MARKER}${content}"`)) return undefined;
  try {
    return (JSON.parse(line) as { time: number }).time;
  } catch {
    return undefined;
  }
}
