import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { BackgroundJobsModule } from '@app/background-jobs';
import { CommonSharedModule } from '@app/common-shared';
import { validateSettings } from './settings.schema';
import { databaseConnection, tableNameOptions, workerOptions } from './app-settings';
import { loggerOptions } from './logger-options';

/**
 * What both apps are made of: settings, logging, the database, the background-jobs module and the
 * shared jobs. They differ only in whether this process executes jobs.
 */
@Module({})
export class AppCoreModule {
  /**
   * `connectAttempts`: tries to reach the database at start, 3 s apart (a CLI gives up sooner than a
   * service). `migration`: connect with ConnectionStrings__AbpBackgroundJobsMigration when it is set.
   */
  static register(options: {
    isJobExecutionEnabled: boolean;
    httpLogging?: boolean;
    connectAttempts?: number;
    migration?: boolean;
  }): DynamicModule {
    return {
      module: AppCoreModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, envFilePath: '.env', validate: validateSettings }),
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => loggerOptions(config, options.httpLogging ?? false),
        }),
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            ...databaseConnection(config, { forMigration: options.migration }).typeorm,
            retryAttempts: options.connectAttempts ?? 20,
            retryDelay: 3000,
            // Wait for a database that is still starting; fail at once on anything else (a bad schema, a typo).
            toRetry: (error: unknown) =>
              /^(E[A-Z]+|57P0\d|08\d{3}|ELOGIN|ESOCKET)$/.test(String((error as { code?: unknown })?.code)),
          }),
        }),
        BackgroundJobsModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            isJobExecutionEnabled: options.isJobExecutionEnabled,
            autoMigrate: config.get<boolean>('Database__AutoMigrate'),
            ...tableNameOptions(config),
            worker: workerOptions(config),
          }),
        }),
        CommonSharedModule,
      ],
    };
  }
}
