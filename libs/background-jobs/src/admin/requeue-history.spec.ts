import { MAX_ERROR_HISTORY, withRequeueHistory } from './requeue-history';

const now = new Date('2030-01-02T03:04:05.678Z');
const parse = (text: string) => JSON.parse(text) as Record<string, unknown>;

describe('withRequeueHistory', () => {
  it('moves the last error into ErrorHistory with when and by whom, keeping the other keys', () => {
    const bag = parse(
      withRequeueHistory(
        JSON.stringify({ TenantId: 't1', LastError: 'Error: boom', LastErrorTime: 'then', LastErrorTryCount: 3 }),
        now,
        'alice',
      ),
    );
    expect(bag).toEqual({
      TenantId: 't1',
      ErrorHistory: [
        {
          LastError: 'Error: boom',
          LastErrorTime: 'then',
          LastErrorTryCount: 3,
          RequeuedAt: now.toISOString(),
          RequeuedBy: 'alice',
        },
      ],
    });
  });

  it('appends to the list of earlier requeues and keeps the last MAX_ERROR_HISTORY', () => {
    let extra = '{}';
    for (let i = 1; i <= MAX_ERROR_HISTORY + 2; i++)
      extra = withRequeueHistory(JSON.stringify({ ...parse(extra), LastError: `error ${i}` }), now, 'bob');
    const history = parse(extra).ErrorHistory as Array<Record<string, unknown>>;
    expect(history.map((h) => h.LastError)).toEqual(
      Array.from({ length: MAX_ERROR_HISTORY }, (_, i) => `error ${i + 3}`),
    );
  });

  it.each([
    ['empty', '', {}],
    ['not JSON', 'oops', { OriginalExtraProperties: 'oops' }],
    ['an array', '[1]', { OriginalExtraProperties: [1] }],
  ])('makes an object of a bag that is %s, keeping what it held', (_name, extra, kept) => {
    expect(parse(withRequeueHistory(extra, now, 'carol'))).toEqual({
      ...kept,
      ErrorHistory: [{ RequeuedAt: now.toISOString(), RequeuedBy: 'carol' }],
    });
  });

  it('keeps an ErrorHistory that is not a list as the first entry of one', () => {
    expect(parse(withRequeueHistory('{"ErrorHistory":"odd"}', now, 'dan')).ErrorHistory).toEqual([
      { Original: 'odd' },
      { RequeuedAt: now.toISOString(), RequeuedBy: 'dan' },
    ]);
  });
});
