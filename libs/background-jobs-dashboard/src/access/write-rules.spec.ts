import { CROSS_SITE, JSON_ONLY, READ_ONLY, refuseWrite } from './write-rules';

const host = { host: 'jobs.example:3000' };
const json = { 'content-type': 'application/json; charset=utf-8' };

describe('refuseWrite', () => {
  it('lets a same-origin or non-browser write through', () => {
    expect(refuseWrite({ ...host, 'sec-fetch-site': 'same-origin' }, { readOnly: false, api: false })).toBeUndefined();
    expect(
      refuseWrite({ ...host, origin: 'http://jobs.example:3000' }, { readOnly: false, api: false }),
    ).toBeUndefined();
    expect(refuseWrite({ ...host, ...json }, { readOnly: false, api: true })).toBeUndefined();
  });

  it('refuses every write when read-only', () => {
    expect(refuseWrite({ ...host, ...json }, { readOnly: true, api: true })).toEqual({
      status: 403,
      message: READ_ONLY,
    });
  });

  it.each([
    [{ 'sec-fetch-site': 'cross-site' }],
    [{ 'sec-fetch-site': 'same-site' }],
    [{ origin: 'http://evil.example' }],
    [{ origin: 'http://jobs.example:3001' }],
    [{ origin: 'null' }],
  ])('refuses a write another site sent: %j', (headers) => {
    expect(refuseWrite({ ...host, ...json, ...headers }, { readOnly: false, api: true })).toEqual({
      status: 403,
      message: CROSS_SITE,
    });
  });

  it('needs Content-Type: application/json on the API, which no form of another site can send', () => {
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      const headers = type === undefined ? host : { ...host, 'content-type': type };
      expect(refuseWrite(headers, { readOnly: false, api: true })).toEqual({ status: 415, message: JSON_ONLY });
    }
  });
});
