import { BACKGROUND_JOB_NAME_METADATA } from '../background-jobs.constants';

export type ArgsType<T = object> = abstract new (...args: never[]) => T;

/**
 * ABP's `[BackgroundJobName("...")]` on an args class. Without it the job name is the args
 * class's name.
 */
export function BackgroundJobName(name: string): ClassDecorator {
  checkJobName(name);
  return (target) => Reflect.defineMetadata(BACKGROUND_JOB_NAME_METADATA, name, target);
}

/** A job name fits ABP's JobName column (128 characters) and holds no control characters. */
export function checkJobName(name: string): void {
  // eslint-disable-next-line no-control-regex -- control characters are what this rejects
  if (typeof name !== 'string' || !name || name.length > 128 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new Error(
      `A background job name must be 1 to 128 characters long, without control characters, got ${JSON.stringify(name)}`,
    );
  }
}

export function getJobName(argsType: ArgsType): string {
  return (Reflect.getMetadata(BACKGROUND_JOB_NAME_METADATA, argsType) as string | undefined) ?? argsType.name;
}
