/**
 * When the table cannot answer — a broken connection, throttling, a server fault, after the SDK's
 * own five attempts — a request is answered 503 UNAVAILABLE with Retry-After, never a 500: every
 * use case is retry-safe, so the caller comes back and the retry completes what the first began.
 * The outage here is real transport failure (ECONNRESET on every request) under the production
 * client settings; the store itself is the real one.
 */
import { isStoreUnavailable, StoreBusy, WriteOutcomeUnknown } from '../../functions/src/store/db';
import { makeApi, login, sendPacket, topup, testDeps } from '../helpers/app';
import { lossyDeps } from '../helpers/lossy-store';

describe('a store outage answers 503 UNAVAILABLE, never 500', () => {
  test('a claim and a wallet read during an outage: 503 with Retry-After, nothing written; after it the claim takes its share once', async () => {
    const api = makeApi(testDeps());
    const sender = await login(api);
    await topup(api, sender, 1_000);
    const sent = await sendPacket(api, sender, { total: 300, count: 3, mode: 'equal' });
    const claimer = await login(api);

    const { d, net } = lossyDeps();
    const down = makeApi(d);
    net.down();
    const r = await down('POST', '/v1/claims', { token: claimer.token, body: { code: sent.shareCode.code } });
    expect(r.status).toBe(503);
    expect(r.body.error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(typeof r.body.error.correlationId).toBe('string');
    expect(r.headers['retry-after']).toBe('1');
    // The SDK tried again on its own before giving up.
    expect(net.lost.length).toBeGreaterThan(1);
    const w = await down('GET', '/v1/wallet', { token: claimer.token });
    expect(w.status).toBe(503);
    net.up();

    // Nothing was written during the outage.
    const before = await api('GET', `/v1/packets/${sent.packet.id}`, { token: sender.token });
    expect(before.body.claimedCount).toBe(0);
    // The retry after the outage claims, exactly once.
    const again = await down('POST', '/v1/claims', { token: claimer.token, body: { code: sent.shareCode.code } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ amount: 100, repeat: false });
    const after = await api('GET', `/v1/packets/${sent.packet.id}`, { token: sender.token });
    expect(after.body.claimedCount).toBe(1);
  }, 60_000);

  test('what counts as the store being unavailable, and what is a bug', () => {
    const sdk = (name: string, fault: 'client' | 'server', message = name) =>
      Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode: 400 } });
    expect(isStoreUnavailable(sdk('ProvisionedThroughputExceededException', 'client'))).toBe(true);
    expect(isStoreUnavailable(sdk('ThrottlingException', 'client'))).toBe(true);
    expect(isStoreUnavailable(sdk('InternalServerError', 'server'))).toBe(true);
    expect(
      isStoreUnavailable(
        Object.assign(new Error('AWS SDK error wrapper for TimeoutError: read ECONNRESET'), {
          $metadata: { attempts: 5 },
        }),
      ),
    ).toBe(true);
    expect(
      isStoreUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isStoreUnavailable(new WriteOutcomeUnknown('update'))).toBe(true);
    expect(isStoreUnavailable(new StoreBusy('batchGet: unprocessed keys after retries'))).toBe(true);
    // A malformed request is our bug: a 500 with a correlation id, not "try again".
    expect(isStoreUnavailable(sdk('ValidationException', 'client', 'One or more parameter values were invalid'))).toBe(
      false,
    );
    expect(isStoreUnavailable(new Error('claim: share 3 of packet p is held by another write'))).toBe(false);
    expect(isStoreUnavailable(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isStoreUnavailable('ECONNRESET')).toBe(false);
  });
});
