import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SQLITE_FILE, parseConnectionString } from './connection-string';

const SETTING = 'ConnectionStrings__AbpBackgroundJobs';

describe('parseConnectionString', () => {
  // SQLite paths resolve against the working directory and their folder is created: keep both in a temporary one.
  const originalCwd = process.cwd();
  let workDir: string;
  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'bj-connection-'));
    process.chdir(workDir);
  });
  afterAll(() => {
    process.chdir(originalCwd);
    rmSync(workDir, { recursive: true, force: true });
  });

  it.each([undefined, '', '   '])('takes %p as the default SQLite file', (value) => {
    const connection = parseConnectionString(value);
    expect(connection.provider).toBe('sqlite');
    expect(connection.typeorm).toMatchObject({ type: 'better-sqlite3', database: join(workDir, DEFAULT_SQLITE_FILE) });
  });

  it.each([
    ['Data Source=jobs/app.db', 'jobs/app.db'],
    ['DataSource = jobs/b.db ;', 'jobs/b.db'],
    ['Filename="jobs/with;semicolon.db"', 'jobs/with;semicolon.db'],
  ])('reads SQLite from %p', (value, file) => {
    const connection = parseConnectionString(value);
    expect(connection.provider).toBe('sqlite');
    expect(connection.typeorm).toMatchObject({ database: join(workDir, file) });
  });

  it('keeps an in-memory SQLite database in memory', () => {
    expect(parseConnectionString('Data Source=:memory:').typeorm).toMatchObject({ database: ':memory:' });
  });

  it.each(['postgres://u:secret@db.example:6543/jobs', 'postgresql://u@db.example/jobs?sslmode=disable'])(
    'reads the PostgreSQL URL %p',
    (url) => {
      const connection = parseConnectionString(url);
      expect(connection.provider).toBe('postgres');
      expect(connection.typeorm).toMatchObject({ type: 'postgres', url });
      expect(connection.description).not.toContain('secret');
    },
  );

  it("reads Npgsql's Host=... form", () => {
    const connection = parseConnectionString(
      'Host=db.example;Port=6543;Database=Jobs;Username=abp;Password="p;w""d";Maximum Pool Size=4;SSL Mode=Require',
    );
    expect(connection.provider).toBe('postgres');
    expect(connection.typeorm).toMatchObject({
      type: 'postgres',
      host: 'db.example',
      port: 6543,
      database: 'Jobs',
      username: 'abp',
      password: 'p;w"d',
      ssl: { rejectUnauthorized: false },
      extra: { max: 4 },
    });
    expect(connection.description).not.toContain('p;w');
  });

  it('lets DatabaseProvider override the guess, in any letter case', () => {
    expect(parseConnectionString('Server=db.example;Database=Jobs;User Id=abp', 'PostgreSql').typeorm).toMatchObject({
      type: 'postgres',
      host: 'db.example',
      username: 'abp',
    });
    expect(parseConnectionString('Data Source=x.db', 'sqlite').provider).toBe('sqlite');
  });

  it('names DatabaseProvider when its value is unknown', () => {
    expect(() => parseConnectionString('', 'Oracle')).toThrow(/DatabaseProvider: "Oracle"/);
  });

  it.each([
    ['an unknown URL scheme', 'mongodb://localhost/jobs'],
    ['a form no database uses', 'Just some text'],
    ['a port that is not a number', 'Host=db;Port=abc;Database=Jobs'],
  ])('names the setting for %s', (_what, value) => {
    expect(() => parseConnectionString(value)).toThrow(SETTING);
  });

  it('never repeats a password in its error', () => {
    expect(() => parseConnectionString('Password=hunter2;Nonsense=1')).toThrow(/Password=\*\*\*/);
  });
});
