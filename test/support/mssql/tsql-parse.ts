import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { declareAsTheDriver } from './driver-declarations';
import type { RecordedStatement } from './store-statements';

/** Microsoft's T-SQL parser (ScriptDom), carried in the repository: see tools/tsql-parse/README.md. */
export const TSQL_PARSE = join(__dirname, '..', '..', '..', 'tools', 'tsql-parse', 'tsql-parse');

/** One file handed to the parser, and what it said. */
export interface ParsedFile {
  file: string;
  sql: string;
  /** 'OK [statement kinds]', or the parser's errors, one per line. */
  verdict: string;
  ok: boolean;
}

/** The strings of the EXEC(N'...') calls in a batch, unescaped: SQL Server compiles each as a batch of its own. */
export function execStrings(sql: string): string[] {
  return [...sql.matchAll(/EXEC\s*\(\s*N'((?:[^']|'')*)'\s*\)/gi)].map((m) => m[1].replace(/''/g, "'"));
}

/**
 * Writes each statement to `dir` as sent (NN-scenario.sql); again after a DECLARE of its parameters
 * as the driver declares them (NN-scenario.declared.sql), so each parameter's use is checked
 * against its type; and the string of each EXEC(N'...') in it (NN-scenario.exec-K.sql).
 */
export function writeStatementFiles(statements: RecordedStatement[], dir: string): Map<string, string> {
  const files = new Map<string, string>();
  statements.forEach((statement, index) => {
    const stem = `${String(index + 1).padStart(2, '0')}-${statement.scenario}`;
    const add = (suffix: string, sql: string) => {
      const file = join(dir, `${stem}${suffix}.sql`);
      writeFileSync(file, `${sql}\n`);
      files.set(file, sql);
    };
    add('', statement.sql);
    if (statement.params.length > 0) add('.declared', `${declareAsTheDriver(statement.params)}\n${statement.sql}`);
    execStrings(statement.sql).forEach((batch, k) => add(`.exec-${k + 1}`, batch));
  });
  return files;
}

/**
 * Parses the files under one SQL Server grammar (130: SQL Server 2016, the oldest version the
 * store supports). Throws when the parser cannot run (mono missing) or answers about other files.
 */
export function parseTsql(files: Map<string, string>, grammar = 130): ParsedFile[] {
  const run = spawnSync(TSQL_PARSE, ['--grammar', String(grammar), ...files.keys()], { encoding: 'utf8' });
  if (run.error) throw run.error;
  const verdicts = new Map<string, string[]>();
  for (const line of run.stdout.split('\n')) {
    const match = /^TSql\d+ (\S+): (.*)$/.exec(line);
    if (match) verdicts.set(match[1], [...(verdicts.get(match[1]) ?? []), match[2]]);
  }
  const parsed = [...files].map(([file, sql]) => {
    const lines = verdicts.get(basename(file)) ?? [];
    return {
      file: basename(file),
      sql,
      verdict: lines.join('\n'),
      ok: lines.length === 1 && lines[0].startsWith('OK'),
    };
  });
  if (parsed.some((p) => p.verdict === '')) {
    throw new Error(
      `${TSQL_PARSE} gave no verdict for some files (exit ${run.status}): ${run.stderr.trim() || run.stdout.trim()}\n` +
        'It needs mono: apt-get install -y mono-runtime libmono-system4.0-cil libmono-system-core4.0-cil',
    );
  }
  return parsed;
}
