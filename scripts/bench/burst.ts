/**
 * (m) A burst on one packet over HTTP (the local API as `npm start` runs it: serverless-offline):
 * 500 distinct claimers sent within about 2 s at a 100-share packet. Every answer must be a share
 * or PACKET_FINISHED, exactly 100 shares, and the p99 latency within 2× the queueing bound.
 *
 * The bound. Before the burst, the same stack's service rate μ is measured on another 100-share
 * packet (closed loop, `serviceClients` at once: claims answered per second). The burst's
 * requests are sent at known offsets a_i (i = 0…N−1, in order). A server that answers μ claims
 * a second in arrival order answers request i by (i + 1)/μ at the latest (it has i requests
 * before it), so its latency is at most b_i = max(1/μ, (i + 1)/μ − a_i). The bound is the p99
 * of the b_i, and the target p99(latency) ≤ 2 × p99(b). Answers of PACKET_FINISHED cost less
 * than a claim (they write nothing), so μ from full claims makes the bound conservative.
 */
import { type Api, type User, httpApi, login, newSenderWithPacket } from './api';
import { now, percentile, pool, round, sleep } from './util';

export interface BurstResult {
  claimers: number;
  sendSpreadMs: number;
  serviceRate: number;
  shares: number;
  finished: number;
  other: Record<string, number>;
  sum: number;
  total: number;
  p50Ms: number;
  p99Ms: number;
  boundP99Ms: number;
  ratio: number;
  pass: boolean;
}

export async function burstBench(
  base: string,
  setup: Api,
  opts: { claimers: number; spreadMs: number; serviceClients: number },
): Promise<BurstResult> {
  const { api, close } = httpApi(base, opts.claimers + 16);
  try {
    const users: User[] = await pool(opts.claimers, 8, () => login(setup));
    // Warm the functions on the way (session, wallet, packets, claims), untimed.
    const warm = await newSenderWithPacket(api, 2_000, 10);
    await pool(10, 5, (i) => api('POST', '/v1/claims', { token: users[i]!.token, body: { code: warm.code } }));

    // The service rate μ: 100 claims, closed loop.
    const probe = await newSenderWithPacket(setup, 20_000, 100);
    const t0 = now();
    await pool(100, opts.serviceClients, (i) =>
      api('POST', '/v1/claims', { token: users[opts.claimers - 1 - i]!.token, body: { code: probe.code } }),
    );
    const serviceRate = 100 / ((now() - t0) / 1000);

    // The burst: request i sent at i × spread / N (open loop).
    const packet = await newSenderWithPacket(setup, 20_000, 100);
    const start = now();
    const results = await Promise.all(
      users.map(async (u, i) => {
        const at = (i * opts.spreadMs) / opts.claimers;
        const wait = start + at - now();
        if (wait > 0) await sleep(wait);
        const sent = now();
        const r = await api('POST', '/v1/claims', { token: u.token, body: { code: packet.code } });
        return {
          offset: sent - start,
          ms: now() - sent,
          status: r.status,
          code: r.body?.error?.code as string | undefined,
          amount: r.status === 200 ? (r.body.amount as number) : 0,
        };
      }),
    );
    const order = [...results].sort((a, b) => a.offset - b.offset);
    const bounds = order
      .map((r, i) => Math.max(1000 / serviceRate, ((i + 1) * 1000) / serviceRate - r.offset))
      .sort((a, b) => a - b);
    const lat = results.map((r) => r.ms).sort((a, b) => a - b);
    const other: Record<string, number> = {};
    for (const r of results)
      if (r.status !== 200 && r.code !== 'PACKET_FINISHED')
        other[`${r.status} ${r.code ?? ''}`] = (other[`${r.status} ${r.code ?? ''}`] ?? 0) + 1;
    const shares = results.filter((r) => r.status === 200).length;
    const p99 = percentile(lat, 99);
    const boundP99 = percentile(bounds, 99);
    return {
      claimers: opts.claimers,
      sendSpreadMs: round(Math.max(...results.map((r) => r.offset)), 0),
      serviceRate: round(serviceRate, 1),
      shares,
      finished: results.filter((r) => r.code === 'PACKET_FINISHED').length,
      other,
      sum: results.reduce((a, r) => a + r.amount, 0),
      total: packet.total,
      p50Ms: round(percentile(lat, 50), 1),
      p99Ms: round(p99, 1),
      boundP99Ms: round(boundP99, 1),
      ratio: round(p99 / boundP99, 2),
      pass: shares === 100 && Object.keys(other).length === 0 && p99 <= 2 * boundP99,
    };
  } finally {
    close();
  }
}

export function burstRows(b: BurstResult): string[][] {
  return [
    [
      'm',
      `${b.claimers} claimers sent within ${b.sendSpreadMs} ms at one 100-share packet`,
      `${b.shares} shares (Σ ${b.sum} of ${b.total}), ${b.finished} PACKET_FINISHED, other ${JSON.stringify(b.other)}`,
      '100 shares, Σ = total, nothing else',
      b.shares === 100 && b.sum === b.total && Object.keys(b.other).length === 0 ? 'PASS' : 'FAIL',
    ],
    ['m', 'service rate μ (closed loop, same stack)', `${b.serviceRate} claims/s`, '—', 'info'],
    [
      'm',
      'burst latency p50 / p99 vs queueing bound',
      `${b.p50Ms} / ${b.p99Ms} ms; bound p99 ${b.boundP99Ms} ms (× ${b.ratio})`,
      'p99 ≤ 2 × bound',
      b.p99Ms <= 2 * b.boundP99Ms ? 'PASS' : 'FAIL',
    ],
  ];
}
