import { parseKeyValues, redact } from './key-values';

describe('parseKeyValues', () => {
  it('reads keys case-insensitively, trims, and unquotes both quote styles', () => {
    expect(parseKeyValues(` Host = a ; PASSWORD='it''s';Application Name="x""y" ;Empty=`)).toEqual({
      host: 'a',
      password: "it's",
      'application name': 'x"y',
      empty: '',
    });
  });
});

describe('redact', () => {
  it('hides passwords in key=value and URL forms', () => {
    expect(redact('Host=a;Password=hunter2;Pwd=x')).toBe('Host=a;Password=***;Pwd=***');
    expect(redact('postgres://abp:hunter2@db/jobs')).toBe('postgres://abp:***@db/jobs');
  });
});
