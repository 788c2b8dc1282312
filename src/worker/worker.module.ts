import { Module } from '@nestjs/common';
import { AppCoreModule } from '../config/app-core.module';

/** The job executor: no HTTP, the background-jobs worker running. */
@Module({ imports: [AppCoreModule.register({ isJobExecutionEnabled: true })] })
export class WorkerModule {}
