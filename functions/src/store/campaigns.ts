/**
 * Campaign records. The record carries everything needed to rebuild its packets
 * exactly (shape, times, the split seed), so a retry or the sweeper can finish a campaign a
 * crash interrupted.
 */
import type { SplitMode } from '../domain/split';
import type { Db } from './db';
import { Indexes, Keys, refOfPk } from './keys';

export type CampaignState = 'funding' | 'active' | 'canceled';

export interface CampaignRecord {
  id: string;
  ownerId: string;
  ownerName: string;
  name: string;
  total: number;
  count: number;
  mode: SplitMode;
  greeting: string;
  quantity: number;
  feePerPacket: number;
  /** The whole debit: quantity × (total + feePerPacket). */
  debit: number;
  /** base64 of the 256-bit split seed (never returned by the API). */
  seed: string;
  createdAt: string;
  expiresAt: string;
  expiresAtMs: number;
  codeValidity: number;
  state: CampaignState;
  senderHint: number;
  feeHint: number;
  /** The fee ledger (a shard of the fee account, fixed at creation); absent on older campaigns. */
  feeAccount?: string;
}

export interface CampaignStore {
  /**
   * Creates the record unless one exists; returns the stored one. While funding it sits in the
   * due index at `due`, so the sweeper finishes (or cancels) a campaign whose request died.
   */
  create(c: CampaignRecord, due: { shard: number; at: string }): Promise<CampaignRecord>;
  get(id: string): Promise<CampaignRecord | undefined>;
  setState(id: string, from: CampaignState, to: CampaignState): Promise<boolean>;
  /** The owner's campaigns, newest first. */
  listByOwner(ownerId: string, limit: number): Promise<CampaignRecord[]>;
}

export class DynamoCampaignStore implements CampaignStore {
  constructor(private readonly db: Db) {}

  async create(c: CampaignRecord, due: { shard: number; at: string }): Promise<CampaignRecord> {
    const item = {
      ...Keys.campaign(c.id),
      ...c,
      ...Keys.campaignsOf(c.ownerId, c.createdAt, c.id),
      ...Keys.due(due.shard, due.at, c.id),
    };
    if (await this.db.put(item, { condition: 'attribute_not_exists(pk)' })) return c;
    const stored = await this.get(c.id);
    if (!stored) throw new Error('campaigns: record vanished');
    return stored;
  }

  async get(id: string): Promise<CampaignRecord | undefined> {
    const it = await this.db.get(Keys.campaign(id));
    if (!it) return undefined;
    const { pk: _pk, sk: _sk, gsi2pk: _g, gsi2sk: _s, ...rec } = it;
    return rec as unknown as CampaignRecord;
  }

  async setState(id: string, from: CampaignState, to: CampaignState): Promise<boolean> {
    // Leaving `funding` also leaves the due index: nothing is left for the sweeper.
    const r = await this.db.update(Keys.campaign(id), 'SET #s = :to REMOVE gsi1pk, gsi1sk', {
      condition: '#s = :from',
      names: { '#s': 'state' },
      values: { ':from': from, ':to': to },
    });
    return r !== undefined;
  }

  async listByOwner(ownerId: string, limit: number): Promise<CampaignRecord[]> {
    const page = await this.db.query({
      index: Indexes.byUser,
      keyCondition: 'gsi2pk = :pk',
      values: { ':pk': Keys.campaignsPk(ownerId) },
      forward: false,
      limit,
    });
    const ids = page.items
      .map((k) => refOfPk(String(k.pk)))
      .flatMap((ref) => (ref?.kind === 'campaign' ? [ref.id] : []));
    const all = await Promise.all(ids.map((id) => this.get(id)));
    return all.filter((c): c is CampaignRecord => c !== undefined);
  }
}
