import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigService } from '@nestjs/config';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './worker/worker.module';
import { closeOnSignals, runMain } from './run-main';
import { startTracing } from './observability/tracing';
import { limitHeapGrowth } from './config/heap-growth';

/** The worker as a service: `node dist/main.worker.js`; SIGTERM or SIGINT stop it cleanly. */
runMain('worker', async () => {
  limitHeapGrowth(); // a lower peak RSS under load, at the same speed (config/heap-growth.ts)
  // Before the app is built, so its HTTP server is instrumented; nothing is loaded unless OTEL_* asks.
  await startTracing('worker');
  const app = await NestFactory.createApplicationContext(WorkerModule, {
    bufferLogs: true,
    abortOnError: false,
    autoFlushLogs: false,
  });
  app.useLogger(app.get(Logger));
  // Flushed by hand: on a failed start Nest would flush its stack trace too, and runMain prints the one clear line.
  app.flushLogs();
  // Past the worker's ShutdownTimeout, plus time to release its rows and close the pool.
  closeOnSignals(app, (app.get(ConfigService).get<number>('AbpBackgroundJobWorker__ShutdownTimeout')! + 15) * 1000);
});
