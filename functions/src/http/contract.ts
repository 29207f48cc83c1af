/**
 * Response shapes of the HTTP contract (API.md), shared by the functions (their views are typed
 * with these) and the client (its API module imports them, type-only). Request shapes are the
 * zod schemas in `schemas.ts`. No runtime code here.
 */
export type Fen = number;
export type TierName = 'personal' | 'enterprise' | 'provider';
export type PacketStatus = 'active' | 'finished' | 'expired' | 'refunded';
export type CodeKindName = 'live' | 'share' | 'receive';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown>; correlationId?: string };
}

export interface SessionResponse {
  token: string;
  userId: string;
  name: string;
  tier: TierName;
  roles: string[];
  expiresAt: string;
}

export interface WalletResponse {
  balance: Fen;
  currency: 'CNY';
  tier: TierName;
  perPacketLimit: Fen;
  dailyLimit: Fen;
  sentToday: Fen;
  feeBps: number;
  maxShares: number;
}

export interface TopupResponse {
  topupId: string;
  amount: Fen;
  balance: Fen;
}

export type LedgerType = 'topup' | 'packet_debit' | 'fee' | 'claim_credit' | 'refund_credit' | 'transfer_debit' | 'transfer_credit';
export interface LedgerLine {
  id: string;
  type: LedgerType;
  amount: Fen;
  balanceAfter: Fen;
  ref: string;
  at: string;
}
export interface LedgerResponse {
  entries: LedgerLine[];
  cursor: string | null;
}

export interface CodeView {
  code: string;
  kind: CodeKindName;
  issuedAt: string;
  expiresAt: string;
  refreshAfter?: string;
}

export interface PacketSummary {
  id: string;
  sender: { id: string; name: string };
  total: Fen;
  count: number;
  mode: 'lucky' | 'equal';
  greeting: string;
  scene: string;
  status: PacketStatus;
  claimedCount: number;
  refundedAmount: Fen;
  createdAt: string;
  expiresAt: string;
  /** 专属红包: only this account may claim. */
  recipient?: { id: string; name: string };
}

export interface ClaimView {
  userId: string;
  name: string;
  amount: Fen;
  claimedAt: string;
  best: boolean;
}

/** One forward of a packet: who minted a share code, through whose code, and what came of it. */
export interface ForwardView {
  id: string;
  by: { id: string; name: string };
  /** The forward whose code this one was made from; absent: from the sender's own code. */
  parent?: string;
  at: string;
  /** Claims made through this forward's code. */
  claims: number;
}

export interface PacketView extends PacketSummary {
  claimedAmount: Fen;
  claims?: ClaimView[];
  /** The forwarding tree (flat, with parent links), for the sender and claimers. */
  forwards?: ForwardView[];
}

export interface CreatePacketResponse {
  packet: PacketView;
  code: CodeView;
  shareCode: CodeView;
  fee: Fen;
}

export type OpenCodeResponse =
  | {
      target: 'packet';
      packet: PacketSummary;
      claimable: boolean;
      reason?: 'PACKET_FINISHED' | 'PACKET_EXPIRED' | 'PACKET_NOT_READY' | 'ALREADY_CLAIMED';
      myClaim?: { amount: Fen; claimedAt: string };
    }
  | { target: 'receive'; payee: { id: string; name: string } };

export interface ClaimResponse {
  packetId: string;
  amount: Fen;
  claimedAt: string;
  repeat: boolean;
  best?: boolean;
}

export interface MyPacketItem extends PacketSummary {
  myAmount?: Fen;
  claimedAt?: string;
}
export interface MyPacketsResponse {
  items: MyPacketItem[];
  cursor: string | null;
}

export interface TransferResponse {
  transferId: string;
  amount: Fen;
  to: { id: string; name: string };
}
