/**
 * OpenTelemetry's messaging semantic conventions (1.45), still "incubating": copied here, as the
 * semantic-conventions package recommends for those, instead of loading its incubating entry
 * point (a megabyte of constants).
 */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
/** Stable (general attributes): the class of error a span ended with. */
export const ATTR_ERROR_TYPE = 'error.type';

/** Our messaging.system: not one of the convention's well-known values, so named after the table's owner. */
export const MESSAGING_SYSTEM = 'abp_background_jobs';

/** This module's own attributes, beside the conventions'. */
export const ATTR_TRY_COUNT = 'abp.background_job.try_count';
export const ATTR_OUTCOME = 'abp.background_job.outcome';
