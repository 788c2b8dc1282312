import type { Request } from 'express';
import { decideAccess, NOT_AUTHORIZED, ONLY_LOCAL, SIGN_IN } from './access-rules';

function request(remoteAddress: string, headers: Record<string, string> = {}): Request {
  return { socket: { remoteAddress }, headers } as unknown as Request;
}

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
const none = { basicAuth: undefined, authorize: undefined, trustProxy: false as const };

describe('decideAccess', () => {
  it('with no settings lets in loopback only, naming the address as the actor', async () => {
    expect(await decideAccess(request('127.0.0.1'), none)).toEqual({ allowed: true, actor: { name: '127.0.0.1' } });
    expect(await decideAccess(request('192.0.2.7'), none)).toEqual({
      allowed: false,
      status: 403,
      message: ONLY_LOCAL,
    });
  });

  it('with credentials asks everyone, loopback too, and names the user as the actor', async () => {
    const options = { ...none, basicAuth: { username: 'ops', password: 'secret' } };
    expect(await decideAccess(request('127.0.0.1'), options)).toMatchObject({
      allowed: false,
      status: 401,
      message: SIGN_IN,
    });
    expect(await decideAccess(request('192.0.2.7', { authorization: basic('ops:secret') }), options)).toEqual({
      allowed: true,
      actor: { name: 'ops' },
    });
  });

  it('with an authorize hook lets it decide, after Basic auth when that is set too', async () => {
    const authorize = (req: Request) => req.headers['x-role'] === 'admin';
    const hook = { ...none, authorize };
    expect(await decideAccess(request('192.0.2.7', { 'x-role': 'admin' }), hook)).toMatchObject({ allowed: true });
    expect(await decideAccess(request('127.0.0.1'), hook)).toEqual({
      allowed: false,
      status: 403,
      message: NOT_AUTHORIZED,
    });
    const both = { ...hook, basicAuth: { username: 'ops', password: 'secret' } };
    expect(await decideAccess(request('192.0.2.7', { 'x-role': 'admin' }), both)).toMatchObject({ status: 401 });
    expect(
      await decideAccess(request('192.0.2.7', { 'x-role': 'user', authorization: basic('ops:secret') }), both),
    ).toMatchObject({ status: 403 });
  });
});
