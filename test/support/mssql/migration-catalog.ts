import { MssqlIndex } from '@app/background-jobs/store/dialects/mssql.admin';
import { mssqlOwnIndexes } from '@app/background-jobs/store/dialects/mssql.schema';
import { TableShape, tableColumns } from '@app/background-jobs/store/table-shape';

/** ABP's index before 10.6, and 10.6's, as the catalog lists them. */
export const ABP_9_INDEX = { name: 'IX_AbpBackgroundJobs_IsAbandoned_NextTryTime', keys: 'IsAbandoned,NextTryTime' };
export const ABP_10_6_INDEX = {
  name: 'IX_AbpBackgroundJobs_ApplicationName_CompletionTime_IsAbandoned_NextTryTime',
  keys: 'ApplicationName,CompletionTime,IsAbandoned,NextTryTime',
};

/** An index of ours as the catalog lists it: SQL Server writes a filter in its own form, in parentheses. */
export function catalogIndex(index: MssqlIndex) {
  return {
    kind: 'index',
    name: index.name,
    keys: index.keys.join(','),
    included: index.include.length ? [...index.include].sort().join(',') : null,
    filter: index.where ? `(${index.where.replace(/ = (\d)/g, '=($1)')})` : null,
  };
}

/**
 * The rows the migration's catalog batch answers with for a table of `shape` holding these
 * nonclustered indexes (our own ones as made for `oursFor`, when given): no rows for no table.
 */
export function catalogRows(
  shape: TableShape | undefined,
  { abpIndex, oursFor }: { abpIndex?: { name: string; keys: string }; oursFor?: TableShape } = {},
): Array<Record<string, unknown>> {
  if (!shape) return [];
  return [
    ...tableColumns(shape).map((name) => ({ kind: 'column', name, keys: null, included: null, filter: null })),
    ...(abpIndex ? [{ kind: 'index', ...abpIndex, included: null, filter: null }] : []),
    ...(oursFor ? mssqlOwnIndexes(oursFor).map(catalogIndex) : []),
  ];
}
