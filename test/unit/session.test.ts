import { randomBytes } from 'node:crypto';
import { signSession, verifySession, type SessionClaims } from '../../functions/src/domain/session';

const secret = randomBytes(32);
const claims: SessionClaims = {
  sub: 'uAlice',
  name: 'Alice',
  tier: 'personal',
  roles: ['user'],
  dvc: 'd-device-1',
  iat: 1_000,
  exp: 8_200,
};

describe('session tokens', () => {
  test('verify on the stage they were signed for, with their device', () => {
    expect(verifySession(signSession(claims, secret, 'prod'), secret, 'prod', 2_000)).toEqual(claims);
  });

  test('a token of one stage is refused on every other, though the secret is the same', () => {
    const token = signSession(claims, secret, 'sandbox');
    for (const stage of ['local', 'test', 'dev', 'prod'])
      expect(verifySession(token, secret, stage, 2_000)).toBeUndefined();
    expect(verifySession(token, secret, 'sandbox', 2_000)).toBeDefined();
  });

  test('the device is under the signature: another device in the payload is refused', () => {
    const [prefix, , sig] = signSession(claims, secret, 'prod').split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, dvc: 'd-other' })).toString('base64url');
    expect(verifySession(`${prefix}.${forged}.${sig}`, secret, 'prod', 2_000)).toBeUndefined();
  });

  test('no device, an invalid device, expired or old-format tokens are refused', () => {
    const { dvc: _dvc, ...bare } = claims;
    expect(verifySession(signSession(bare as SessionClaims, secret, 'prod'), secret, 'prod', 2_000)).toBeUndefined();
    expect(
      verifySession(signSession({ ...claims, dvc: 'bad device!' }, secret, 'prod'), secret, 'prod', 2_000),
    ).toBeUndefined();
    expect(verifySession(signSession(claims, secret, 'prod'), secret, 'prod', 8_200)).toBeUndefined();
    const [, payload, sig] = signSession(claims, secret, 'prod').split('.');
    expect(verifySession(`s1.${payload}.${sig}`, secret, 'prod', 2_000)).toBeUndefined();
  });
});
