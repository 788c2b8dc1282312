import type { CustomTypesConfig } from 'pg';
import { fromUtcText } from '../store/sql-time';

type TypeParser = (value: string) => unknown;

const parseUtc: TypeParser = (value) => fromUtcText(value);

/** The driver's own parsers, loaded on first use, not when connection settings are read. */
let driverTypes: typeof import('pg').types | undefined;

/**
 * pg parses `timestamp without time zone` (oid 1114) in local time; ABP's columns hold UTC.
 * pg asks for every column of every result, so this must be cheap: the driver's module is looked
 * up once. A `require('pg')` per call would resolve the module's path again each time, with file
 * system calls (Node caches that only for the file that loaded the module first).
 */
export const PG_UTC_TYPES: CustomTypesConfig = {
  getTypeParser: (oid, format): TypeParser => {
    if (oid === 1114) return parseUtc;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see driverTypes
    driverTypes ??= (require('pg') as typeof import('pg')).types;
    return driverTypes.getTypeParser(oid, format) as TypeParser;
  },
};
