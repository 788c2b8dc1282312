import { ConfigService } from '@nestjs/config';
import type { Params } from 'nestjs-pino';

/** pino: readable lines on a terminal (or Logging__Format=pretty), JSON lines otherwise. */
export function loggerOptions(config: ConfigService, httpLogging: boolean): Params {
  const format = config.get<string>('Logging__Format');
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY);
  return {
    pinoHttp: {
      level: config.get<string>('Logging__Level'),
      autoLogging: httpLogging,
      quietReqLogger: true,
      transport: pretty
        ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,req' } }
        : undefined,
    },
  };
}
