import { SqlParam, toMssqlType } from '@app/background-jobs/store/dialects/mssql-runner';

/** The part of tedious (the driver under mssql) that writes sp_executesql's parameter list. */
interface TediousRequest {
  parameters: unknown[];
  addParameter(name: string, type: unknown, value: unknown, options: Record<string, unknown>): void;
  makeParamsParameter(parameters: unknown[]): string;
}
interface Tedious {
  Request: new (sql: string, callback: () => void) => TediousRequest;
  TYPES: Record<string, unknown>;
}
/** A parameter as mssql's Request.input() keeps it: its type function, and a length or scale. */
interface MssqlTypeSpec {
  type: { name: string };
  length?: number;
  scale?: number;
  precision?: number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- tedious ships CommonJS; mssql depends on it
const tedious = require('tedious') as Tedious;

/**
 * `DECLARE @a int, @b nvarchar(40), ...;` for the parameters as the driver declares them when it
 * sends the statement: each SqlParam goes through the dialect's own toMssqlType (what
 * MssqlPoolRunner binds), then, as mssql hands it to tedious, to the tedious type of the same name
 * with its length and scale, and tedious writes the declaration list it puts in sp_executesql's
 * @params. Empty text for no parameters.
 */
export function declareAsTheDriver(params: SqlParam[]): string {
  if (params.length === 0) return '';
  const request = new tedious.Request('', () => undefined);
  for (const p of params) {
    const mapped = toMssqlType(p.type) as MssqlTypeSpec | (() => MssqlTypeSpec);
    const spec = typeof mapped === 'function' ? mapped() : mapped;
    const type = tedious.TYPES[spec.type.name];
    if (!type) throw new Error(`tedious has no type ${spec.type.name} for parameter @${p.name}`);
    request.addParameter(p.name, type, p.value, { length: spec.length, scale: spec.scale, precision: spec.precision });
  }
  return `DECLARE ${request.makeParamsParameter(request.parameters)};`;
}
