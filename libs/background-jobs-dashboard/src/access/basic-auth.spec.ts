import { basicCredentialsOf, credentialsMatch } from './basic-auth';

const header = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;
const expected = { username: 'ops', password: 'pa:ss wörd' };

describe('HTTP Basic credentials', () => {
  it('reads the name and the password, which may hold colons and any UTF-8', () => {
    expect(basicCredentialsOf(header('ops:pa:ss wörd'))).toEqual(expected);
    expect(basicCredentialsOf(`basic  ${Buffer.from('a:b').toString('base64')}`)).toEqual({
      username: 'a',
      password: 'b',
    });
  });

  it('reads nothing from another scheme, a missing header or a value without a colon', () => {
    expect(basicCredentialsOf(undefined)).toBeUndefined();
    expect(basicCredentialsOf('Bearer abc')).toBeUndefined();
    expect(basicCredentialsOf(header('no colon'))).toBeUndefined();
  });

  it('matches only the exact name and password', () => {
    expect(credentialsMatch(expected, expected)).toBe(true);
    expect(credentialsMatch({ ...expected, username: 'Ops' }, expected)).toBe(false);
    expect(credentialsMatch({ ...expected, password: 'pa:ss word' }, expected)).toBe(false);
    expect(credentialsMatch({ ...expected, password: `${expected.password} ` }, expected)).toBe(false);
    expect(credentialsMatch(undefined, expected)).toBe(false);
  });
});
