import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigService } from '@nestjs/config';
import { Logger } from 'nestjs-pino';
import { WebModule } from './web/web.module';
import { configureWebApp } from './web/web-app';
import { closeOnSignals, runMain } from './run-main';
import { startTracing } from './observability/tracing';
import { limitHeapGrowth } from './config/heap-growth';

/** The web app: serves the page and enqueues; jobs run in the worker (`node dist/main.worker.js`). */
runMain('web', async () => {
  limitHeapGrowth(); // a lower peak RSS under load, at the same speed (config/heap-growth.ts)
  // Before the app is built, so its HTTP server is instrumented; nothing is loaded unless OTEL_* asks.
  await startTracing('web');
  const app = await NestFactory.create<NestExpressApplication>(WebModule, {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
    autoFlushLogs: false,
  });
  app.useLogger(app.get(Logger));
  // Flushed by hand: on a failed start Nest would flush its stack trace too, and runMain prints the one clear line.
  app.flushLogs();
  // Past the worker's ShutdownTimeout, plus time to release its rows and close the pool.
  closeOnSignals(app, (app.get(ConfigService).get<number>('AbpBackgroundJobWorker__ShutdownTimeout')! + 15) * 1000);
  const config = app.get(ConfigService);
  configureWebApp(app, config);
  const port = config.get<number>('PORT')!;
  await app.listen(port);
  app.get(Logger).log(`Web app listening on http://localhost:${port}`, 'Web');
});
