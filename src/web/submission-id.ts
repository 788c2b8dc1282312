import { randomUUID } from 'node:crypto';
import { uuidV5 } from '@app/background-jobs';

/** The form field that carries the submission id, beside `_csrf`. */
export const SUBMISSION_ID_FIELD = '_submission';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Names the UUIDv5 job ids of this page (RFC 9562 §5.5), so they meet no other v5 ids. */
const JOB_ID_NAMESPACE = Buffer.from('6f1d2c3a4b5e4f60a7b8c9d0e1f20314', 'hex');

/** A fresh one-time id for one copy of the form: random, so no one can guess another's. */
export function newSubmissionId(): string {
  return randomUUID();
}

/**
 * The submission id a post carries: undefined when it carries none (a form from before this
 * field), or throws when it is not one this page hands out.
 */
export function submissionIdOf(body: Record<string, unknown> | undefined): string | undefined {
  const value = firstValue(body?.[SUBMISSION_ID_FIELD]);
  if (value === undefined) return undefined;
  if (!UUID.test(value)) throw new InvalidSubmissionIdError();
  return value.toLowerCase();
}

/**
 * The id of the job a post of this form queues: a UUIDv5 of its submission id and its text, so
 * posting the same form again finds the first job instead of queueing a second, while a changed
 * text is a new job.
 */
export function jobIdOf(submissionId: string, content: string): string {
  return uuidV5(JOB_ID_NAMESPACE, `${submissionId}\n${content}`);
}

/** The first value of a form field sent once or more (ASP.NET Core binds the first too). */
export function firstValue(value: unknown): string | undefined {
  const first = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof first === 'string' ? first : undefined;
}

export class InvalidSubmissionIdError extends Error {
  constructor() {
    super('The form is damaged: reload the page and try again.');
    this.name = 'InvalidSubmissionIdError';
  }
}
