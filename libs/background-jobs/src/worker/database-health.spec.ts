import { DatabaseHealth } from './database-health';

function recordingLogger() {
  const lines: string[] = [];
  const logger = {
    log: (m: string) => lines.push(`log ${m}`),
    error: (m: string) => lines.push(`error ${m}`),
    warn: () => undefined,
  };
  return { lines, logger };
}

const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('DatabaseHealth', () => {
  it('logs an outage once when it starts and once when it ends', () => {
    const { lines, logger } = recordingLogger();
    const health = new DatabaseHealth(logger, (e) => (e as { code?: string }).code === 'ECONNREFUSED');
    health.failed(outage);
    health.failed(outage);
    health.failed(outage);
    health.succeeded(Date.now() + 1);
    expect(lines.filter((l) => l.includes('Lost the database'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('The database is back'))).toHaveLength(1);
  });

  it('does not call the database back for an operation sent before the outage began', () => {
    const { lines, logger } = recordingLogger();
    const health = new DatabaseHealth(logger, () => true);
    const sentBefore = Date.now() - 1000;
    health.failed(outage);
    health.succeeded(sentBefore);
    expect(lines.some((l) => l.includes('The database is back'))).toBe(false);
    health.succeeded(Date.now() + 1); // sent after the outage began: it is over
    expect(lines.filter((l) => l.includes('The database is back'))).toHaveLength(1);
  });

  it('logs every error that is not an outage, without declaring one', () => {
    const { lines, logger } = recordingLogger();
    const health = new DatabaseHealth(logger, () => false);
    health.failed(new Error('syntax error at or near "SELEC"'));
    health.failed(new Error('syntax error at or near "SELEC"'));
    expect(lines.some((l) => l.includes('Lost the database'))).toBe(false);
    expect(lines.filter((l) => l.includes('A database operation failed'))).toHaveLength(2);
  });

  it('backs off from 250 ms, doubling, never past the poll period', () => {
    const health = new DatabaseHealth(recordingLogger().logger, () => true);
    health.failed(outage);
    expect(health.retryDelay(5000)).toBe(250);
    health.failed(outage);
    health.failed(outage);
    expect(health.retryDelay(5000)).toBe(1000);
    for (let i = 0; i < 10; i++) health.failed(outage);
    expect(health.retryDelay(5000)).toBe(5000);
  });
});
