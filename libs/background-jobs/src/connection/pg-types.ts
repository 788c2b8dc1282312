import { fromUtcText } from '../store/sql-time';

/** pg parses `timestamp without time zone` (oid 1114) in local time; ABP's columns hold UTC. */
export const PG_UTC_TYPES = {
  getTypeParser: (oid: number, format?: string) =>
    oid === 1114 ? (value: string) => fromUtcText(value) : require('pg').types.getTypeParser(oid, format),
};
