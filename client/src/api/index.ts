/**
 * The API, typed from the server's own definitions: request bodies from the zod schemas
 * (functions/src/http/schemas.ts), responses from functions/src/http/contract.ts — types only,
 * nothing of the server is bundled.
 */
import type * as z from 'zod/mini';
import type { CreateApiKeyBody, CreateCampaignBody, CreatePacketRequest, SessionRequest, TransferRequest } from '../../../functions/src/http/schemas';
import type {
  ClaimResponse,
  CodeView,
  CreatePacketResponse,
  LedgerResponse,
  MyPacketsResponse,
  OpenCodeResponse,
  PacketView,
  SessionResponse,
  TopupResponse,
  TransferResponse,
  WalletResponse,
} from '../../../functions/src/http/contract';
import { request } from './client';

export type * from '../../../functions/src/http/contract';
export type { CreatePacketRequest, SessionRequest, TransferRequest };
export type CreateCampaignRequest = z.infer<typeof CreateCampaignBody>;
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyBody>;
export { ApiError, ERROR_MESSAGES, errorText, messageFor } from './errors';

/** One UTC clock minute of the operator figures (GET /v1/admin/ops). */
export interface OpsMinute {
  /** Start of the UTC minute (ISO). */
  minute: string;
  packets: number;
  claims: number;
  claimP50Ms: number | null;
  claimP99Ms: number | null;
  conditionalWrites: number;
  conditionalFailures: number;
  refunds: number;
}

/** The latest reconciliation run as the operator view reports it (amounts in fen). */
export interface OpsReconciliation {
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  ok: boolean;
  mismatches: number;
  checked: { accounts: number; ledgerEntries: number; packets: number; slots: number };
  /** Open-packet escrow. */
  escrow: number;
  inTransit: number;
  balances: number;
  topups: number;
}

/** GET /v1/admin/ops?minutes=N (admin only). */
export interface OpsResponse {
  now: string;
  /** Oldest first, one per minute (zeros where idle); the last one is the current, partial minute. */
  minutes: OpsMinute[];
  totals: {
    packets: number;
    claims: number;
    claimP50Ms: number | null;
    claimP99Ms: number | null;
    /** Basis points, 0..10000. */
    contentionBps: number;
    refunds: number;
  };
  sweep: { oldestDueAgeSeconds: number };
  reconciliation: OpsReconciliation | null;
}

/** A campaign's state (functions/src/store/campaigns.ts). */
export type CampaignState = 'funding' | 'active' | 'canceled';

/** POST /v1/campaigns (201): one debit, `quantity` packets with their share codes. Amounts in fen. */
export interface CreateCampaignResponse {
  campaignId: string;
  name: string;
  quantity: number;
  /** Everything debited: quantity × (total + fee per packet). */
  debit: number;
  /** All fees: quantity × fee per packet. */
  fee: number;
  expiresAt: string;
  packets: Array<{ id: string; code: string }>;
}

/** One item of GET /v1/campaigns (newest first). `total` is per packet, in fen. */
export interface CampaignSummary {
  campaignId: string;
  name: string;
  state: CampaignState;
  quantity: number;
  total: number;
  count: number;
  createdAt: string;
  expiresAt: string;
}

export interface CampaignsResponse {
  items: CampaignSummary[];
}

/** GET /v1/campaigns/{id}: the campaign's figures (amounts in fen). */
export interface CampaignStats {
  campaignId: string;
  name: string;
  state: CampaignState;
  createdAt: string;
  expiresAt: string;
  /** Packets ordered (the campaign's quantity). */
  packets: number;
  packetsCreated: number;
  packetsFinished: number;
  /** Shares of all packets (quantity × count). */
  shares: number;
  claimedShares: number;
  claimedAmount: number;
  refundedAmount: number;
  /** All packets' totals. */
  total: number;
  fee: number;
  /** Claimed shares ÷ shares in basis points (integer, 0–10000). */
  claimRateBps: number;
  /** Claims per clock hour in Beijing time ("YYYY-MM-DDTHH"), oldest first; idle hours absent. */
  claimsPerHour: Array<{ hour: string; claims: number }>;
}

export type ApiScope = 'basic' | 'full';

/** One key of GET /v1/api-keys (never its secret). */
export interface ApiKeyView {
  keyId: string;
  name: string;
  scopes: ApiScope[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface ApiKeysResponse {
  items: ApiKeyView[];
}

/** POST /v1/api-keys (201): the key itself, shown this once. */
export interface CreateApiKeyResponse {
  keyId: string;
  apiKey: string;
  scopes: ApiScope[];
}

export interface RevokeApiKeyResponse {
  keyId: string;
  revokedAt: string;
}

const seg = encodeURIComponent;

export const api = {
  login: (body: SessionRequest) => request<SessionResponse>('POST', '/v1/session', { body, auth: false }),
  wallet: () => request<WalletResponse>('GET', '/v1/wallet'),
  topup: (amount: number, idempotencyKey: string) => request<TopupResponse>('POST', '/v1/wallet/topups', { body: { amount }, idempotencyKey }),
  ledger: (cursor?: string) => request<LedgerResponse>('GET', '/v1/wallet/ledger', { query: { cursor, limit: 20 } }),
  createPacket: (body: CreatePacketRequest, idempotencyKey: string) => request<CreatePacketResponse>('POST', '/v1/packets', { body, idempotencyKey }),
  packet: (id: string) => request<PacketView>('GET', `/v1/packets/${seg(id)}`),
  newCode: (id: string, kind: 'live' | 'share' = 'live', via?: string) =>
    request<CodeView>('POST', `/v1/packets/${seg(id)}/codes`, { body: via ? { kind, via } : { kind } }),
  openCode: (code: string) => request<OpenCodeResponse>('GET', `/v1/codes/${seg(code)}`),
  claim: (code: string) => request<ClaimResponse>('POST', '/v1/claims', { body: { code } }),
  myPackets: (role: 'sent' | 'received', cursor?: string) => request<MyPacketsResponse>('GET', '/v1/me/packets', { query: { role, cursor, limit: 20 } }),
  receiveCode: () => request<CodeView>('GET', '/v1/receive-code'),
  ops: (minutes = 30) => request<OpsResponse>('GET', '/v1/admin/ops', { query: { minutes } }),
  transfer: (body: TransferRequest, idempotencyKey: string) => request<TransferResponse>('POST', '/v1/transfers', { body, idempotencyKey }),
  // Enterprise and provider accounts (the server answers 403 to others).
  createCampaign: (body: CreateCampaignRequest, idempotencyKey: string) =>
    request<CreateCampaignResponse>('POST', '/v1/campaigns', { body, idempotencyKey, timeoutMs: 60_000 }),
  campaigns: () => request<CampaignsResponse>('GET', '/v1/campaigns'),
  campaign: (id: string) => request<CampaignStats>('GET', `/v1/campaigns/${seg(id)}`, { timeoutMs: 30_000 }),
  /** The campaign's share codes as CSV text (index,packet_id,code,expires_at). */
  campaignCodesCsv: (id: string) => request<string>('GET', `/v1/campaigns/${seg(id)}/codes.csv`, { text: true, timeoutMs: 30_000 }),
  apiKeys: () => request<ApiKeysResponse>('GET', '/v1/api-keys'),
  createApiKey: (body: CreateApiKeyRequest) => request<CreateApiKeyResponse>('POST', '/v1/api-keys', { body }),
  revokeApiKey: (keyId: string) => request<RevokeApiKeyResponse>('DELETE', `/v1/api-keys/${seg(keyId)}`),
};
