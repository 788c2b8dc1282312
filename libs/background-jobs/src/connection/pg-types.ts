import type { CustomTypesConfig } from 'pg';
import { fromUtcText } from '../store/sql-time';

type TypeParser = (value: string) => unknown;

/** pg parses `timestamp without time zone` (oid 1114) in local time; ABP's columns hold UTC. */
export const PG_UTC_TYPES: CustomTypesConfig = {
  getTypeParser: (oid, format): TypeParser =>
    oid === 1114
      ? (value) => fromUtcText(value)
      : // eslint-disable-next-line @typescript-eslint/no-require-imports -- the driver is loaded on first use, not when connection settings are read
        ((require('pg') as typeof import('pg')).types.getTypeParser(oid, format) as TypeParser),
};
