import { Writable } from 'node:stream';
import { ConfigService } from '@nestjs/config';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { escapeControlCharacters } from './log-escaping';
import { loggerOptions } from './logger-options';

const FORGED = 'x\nINFO: FORGED\r\u001b[2K\u009b2K\u2028end\ttab';
const ESCAPED = 'x\\nINFO: FORGED\\r\\u001b[2K\\u009b2K\\u2028end\\ttab';

/** A pino logger built from the app's own options for one format, writing into `lines`. */
function appLogger(format: 'pretty' | 'json', lines: string[]) {
  const config = new ConfigService({ Logging__Format: format, Logging__Level: 'info' });
  const params = loggerOptions(config, false).pinoHttp;
  const options = Array.isArray(params) ? params[0] : params;
  const { transport, ...rest } = options as Record<string, unknown> & {
    transport?: { options: Record<string, unknown> };
  };
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      const parts = text.split('\n');
      text = parts.pop()!;
      lines.push(...parts);
      done();
    },
  });
  const destination = transport
    ? pinoPretty({ ...transport.options, colorize: false, destination: sink, sync: true })
    : sink;
  return pino(rest as pino.LoggerOptions, destination);
}

describe('escapeControlCharacters', () => {
  it('writes CR, LF, tab, the C0 and C1 ranges, DEL and the Unicode line breaks as escapes', () => {
    expect(escapeControlCharacters(FORGED)).toBe(ESCAPED);
    expect(escapeControlCharacters('\u0000\u007f\u0080\u009f\u2029')).toBe('\\u0000\\u007f\\u0080\\u009f\\u2029');
    expect(escapeControlCharacters('héllo ✓ 𝄞 "quoted" \\n')).toBe('héllo ✓ 𝄞 "quoted" \\n');
  });
});

describe.each(['pretty', 'json'] as const)('%s log lines', (format) => {
  it('cannot be forged by a newline in the message, its parameters, a field or an error', () => {
    const lines: string[] = [];
    const logger = appLogger(format, lines);
    logger.info({ context: 'MyReportJob' }, `Executing MyReportJob with args: ${FORGED}`);
    logger.info({ context: 'Web' }, 'posted %s', FORGED);
    logger.info({ context: 'Web', field: FORGED }, 'with a field');
    logger.error({ context: 'Worker', err: new Error(FORGED) }, 'failed');
    logger.error(new Error(`only an error ${FORGED}`));
    logger.flush();

    const text = lines.join('\n');
    for (const line of lines) expect(line).not.toMatch(/^\s*INFO: FORGED/);
    // eslint-disable-next-line no-control-regex -- no control character may reach the output
    expect(text).not.toMatch(/[\r\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
    if (format === 'json') {
      const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toEqual([
        `Executing MyReportJob with args: ${ESCAPED}`,
        `posted ${ESCAPED}`,
        'with a field',
        'failed',
        `only an error ${ESCAPED}`,
      ]);
      // Fields keep what JSON escapes itself (CR, LF, C0); the rest is escaped as in the message.
      expect((JSON.parse(lines[2]) as { field: string }).field).toBe(
        'x\nINFO: FORGED\r\u001b[2K\\u009b2K\\u2028end\ttab',
      );
    } else {
      expect(lines[0]).toContain(`Executing MyReportJob with args: ${ESCAPED}`);
      expect(lines[1]).toContain(`posted ${ESCAPED}`);
      expect(lines[2]).toContain(JSON.stringify(ESCAPED).slice(1, -1).replace(/\\\\/g, '\\'));
      expect(text).toContain(`Error: ${ESCAPED}`);
    }
  });
});
