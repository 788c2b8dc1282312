import { describeError, withLastError } from './last-error';

const now = new Date('2024-01-02T03:04:05.678Z');

describe('withLastError', () => {
  it('adds the error to the bag and keeps the other keys', () => {
    const bag = JSON.parse(withLastError('{"TenantId":"t1","Nested":{"a":1}}', new Error('boom'), 3, now)) as Record<
      string,
      unknown
    >;
    expect(bag).toMatchObject({
      TenantId: 't1',
      Nested: { a: 1 },
      LastErrorTime: '2024-01-02T03:04:05.678Z',
      LastErrorTryCount: 3,
    });
    expect(bag.LastError).toMatch(/^Error: boom\n\s+at /);
  });

  it('replaces the previous try’s error', () => {
    const first = withLastError('{}', new Error('first'), 1, now);
    const bag = JSON.parse(withLastError(first, new Error('second'), 2, now)) as Record<string, unknown>;
    expect(bag.LastError).toMatch(/^Error: second/);
    expect(bag.LastErrorTryCount).toBe(2);
  });

  it.each([
    ['an empty string', '', {}],
    ['a JSON array', '[1,2]', { OriginalExtraProperties: [1, 2] }],
    ['a JSON number', '42', { OriginalExtraProperties: 42 }],
    ['JSON null', 'null', {}],
    ['text that is not JSON', 'not json', { OriginalExtraProperties: 'not json' }],
  ])('makes an object of %s, keeping what it held', (_name, extraProperties, kept) => {
    const bag = JSON.parse(withLastError(extraProperties, 'failed', 1, now)) as Record<string, unknown>;
    expect(bag).toEqual({ ...kept, LastError: 'failed', LastErrorTime: now.toISOString(), LastErrorTryCount: 1 });
  });

  it('keeps JSON nested too deep to be written back as text, instead of throwing', () => {
    const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const bag = JSON.parse(withLastError(deep, 'failed', 1, now)) as Record<string, unknown>;
    expect(bag).toEqual({
      OriginalExtraProperties: deep,
      LastError: 'failed',
      LastErrorTime: now.toISOString(),
      LastErrorTryCount: 1,
    });
  });

  it('cuts a long error to 4000 characters', () => {
    const bag = JSON.parse(withLastError('{}', 'x'.repeat(10_000), 1, now)) as Record<string, unknown>;
    expect(bag.LastError).toHaveLength(4000);
  });
});

describe('describeError', () => {
  it('describes what jobs throw: Errors by their stack, objects as JSON, the rest as text', () => {
    expect(describeError(new TypeError('bad'))).toMatch(/^TypeError: bad\n/);
    expect(describeError({ code: 'E_JOB', detail: 1 })).toBe('{"code":"E_JOB","detail":1}');
    expect(describeError('plain')).toBe('plain');
    expect(describeError(undefined)).toBe('undefined');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeError(cyclic)).toBe('[object Object]');
  });

  it('never throws, whatever was thrown', () => {
    const bare = Object.assign(Object.create(null) as object, {
      toJSON: () => {
        throw new Error('no');
      },
    });
    expect(describeError(bare)).toBe('[object Object]');
    expect(describeError({ toJSON: () => undefined })).toBe('[object Object]');
  });
});
