import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './worker/worker.module';
import { closeOnSignals, runMain } from './run-main';

/** The worker as a service: `node dist/main.worker.js`; SIGTERM or SIGINT stop it cleanly. */
runMain('worker', async () => {
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  closeOnSignals(app);
});
