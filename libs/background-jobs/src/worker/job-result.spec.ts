import { MAX_RESULT_LENGTH, withResult } from './job-result';

describe('withResult (ExtraProperties.Result of a kept successful job)', () => {
  it('adds the result as JSON to the bag, keeping what the bag holds', () => {
    expect(withResult('{"LastError":"try 1 failed"}', { rows: 3, ok: true })).toBe(
      '{"LastError":"try 1 failed","Result":{"rows":3,"ok":true}}',
    );
    expect(withResult('{}', 'done')).toBe('{"Result":"done"}');
    expect(withResult('', 0)).toBe('{"Result":0}');
    expect(withResult('{}', null)).toBe('{"Result":null}');
  });

  it('writes nothing (null: the bag stays as it is) when the job returned nothing JSON can hold', () => {
    expect(withResult('{}', undefined)).toBeNull();
    expect(withResult('{}', () => 1)).toBeNull();
  });

  it(`keeps only the first ${MAX_RESULT_LENGTH} characters of a longer result's JSON, as text, with a note`, () => {
    const big = { text: 'x'.repeat(MAX_RESULT_LENGTH) };
    const bag = JSON.parse(withResult('{"Other":1}', big)!) as Record<string, unknown>;
    const json = JSON.stringify(big);
    expect(bag.Other).toBe(1);
    expect(bag.Result).toBe(json.slice(0, MAX_RESULT_LENGTH));
    expect(bag.ResultNote).toBe(
      `The result's JSON is ${json.length} characters long; the first ${MAX_RESULT_LENGTH} are kept, as text`,
    );
    const exact = 'y'.repeat(MAX_RESULT_LENGTH - 2); // its JSON, with quotes, is exactly the limit
    expect(JSON.parse(withResult('{}', exact)!)).toEqual({ Result: exact });
  });

  it('says so, and keeps no result, when the result cannot be written as JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(JSON.parse(withResult('{}', cyclic)!)).toEqual({
      ResultNote: expect.stringMatching(
        /^The result is not JSON-serialisable: TypeError: Converting circular/,
      ) as unknown,
    });
    expect(JSON.parse(withResult('{}', 10n)!)).toMatchObject({
      ResultNote: expect.stringMatching(/BigInt/) as unknown,
    });
  });

  it('keeps a bag that is not a JSON object under OriginalExtraProperties', () => {
    expect(JSON.parse(withResult('not json', 1)!)).toEqual({ OriginalExtraProperties: 'not json', Result: 1 });
  });
});
