/**
 * (h) A campaign of 1,000 packets through the campaign handler in-process: wall time of the one
 * call, and the store requests per packet it cost (writes by kind, counted by a store hook).
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../../functions/src/config';
import { buildDeps } from '../../functions/src/app/deps';
import { DynamoDb, type WriteInfo } from '../../functions/src/store/db';
import { routes as sessionRoutes } from '../../functions/handlers/session';
import { routes as walletRoutes } from '../../functions/handlers/wallet';
import { routes as campaignRoutes } from '../../functions/handlers/campaigns';
import { inProcessApi } from './api';

export interface CampaignBench {
  packets: number;
  seconds: number;
  packetsPerSec: number;
  /** Items written per packet (BatchWriteItem items: packet + shares = 2). */
  itemsWrittenPerPacket: number;
  /** Write requests per packet (a BatchWriteItem of 25 items is one request). */
  writeRequestsPerPacket: number;
  writes: Record<string, number>;
}

export async function campaignBench(cfg: Config, quantity = 1_000): Promise<CampaignBench> {
  const writes: Record<string, number> = { put: 0, update: 0, batchWriteItems: 0 };
  const db = new DynamoDb({
    tableName: cfg.tableName,
    region: cfg.region,
    endpoint: cfg.dynamoEndpoint,
    beforeWrite: (w: WriteInfo) => {
      if (w.op === 'batchWrite') writes.batchWriteItems!++;
      else writes[w.op] = (writes[w.op] ?? 0) + 1;
    },
  });
  const d = buildDeps(cfg, db);
  const api = inProcessApi([...sessionRoutes, ...walletRoutes, ...campaignRoutes], d);
  const devUser = `bc${randomBytes(4).toString('hex')}`;
  const s = await api('POST', '/v1/session', { body: { devUser, tier: 'provider' } });
  const token = s.body.token as string;
  for (let left = quantity * 120; left > 0; left -= 5_000_000) {
    await api('POST', '/v1/wallet/topups', {
      token,
      idem: randomBytes(9).toString('base64url'),
      body: { amount: Math.min(left, 5_000_000) },
    });
  }
  for (const k of Object.keys(writes)) writes[k] = 0;
  const started = Date.now();
  const r = await api('POST', '/v1/campaigns', {
    token,
    idem: randomBytes(9).toString('base64url'),
    body: { name: 'bench', packet: { total: 100, count: 5, mode: 'lucky' }, quantity },
  });
  const seconds = (Date.now() - started) / 1000;
  if (r.status !== 201) throw new Error(`campaign failed ${r.status} ${JSON.stringify(r.body)}`);
  // The campaign writes 25 packets per createMany: 25 share lists, then 25 packet items, one
  // BatchWriteItem request each (packets of ≤ 100 shares have no counter items).
  const batchRequests = Math.ceil(writes.batchWriteItems! / 25);
  const round2 = (x: number) => Math.round(x * 100) / 100;
  return {
    packets: r.body.packets.length,
    seconds: round2(seconds),
    packetsPerSec: Math.round(quantity / seconds),
    itemsWrittenPerPacket: round2((writes.batchWriteItems! + writes.put! + writes.update!) / quantity),
    writeRequestsPerPacket: round2((batchRequests + writes.put! + writes.update!) / quantity),
    writes,
  };
}
