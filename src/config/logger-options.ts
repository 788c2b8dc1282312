import { ConfigService } from '@nestjs/config';
import type { Params } from 'nestjs-pino';
import { batchedStdout } from './batched-stdout';
import { jobLogMerge, jobLogMixin } from './job-log-fields';
import { logEscapingOptions } from './log-escaping';

/** pino: readable lines on a terminal (or Logging__Format=pretty), JSON lines otherwise (written in bursts, see BatchedLines). */
export function loggerOptions(config: ConfigService, httpLogging: boolean): Params {
  const format = config.get<string>('Logging__Format');
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY);
  const options = {
    level: config.get<string>('Logging__Level'),
    autoLogging: httpLogging,
    quietReqLogger: true,
    // A job's lines carry its ids and trace (see job-log-fields.ts).
    mixin: jobLogMixin,
    mixinMergeStrategy: jobLogMerge,
    ...logEscapingOptions(pretty),
  };
  if (pretty) {
    const transport = {
      target: 'pino-pretty',
      options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,req' },
    };
    return { pinoHttp: { ...options, transport } };
  }
  return { pinoHttp: [options, batchedStdout()] };
}
