import { config, type Config } from '../config';
import { DynamoDb, type Db } from '../store/db';
import { DynamoWalletStore, type WalletStore } from '../store/ledger';
import { DynamoPacketStore, type PacketStore } from '../store/packets';
import { DynamoClaimStore, type ClaimStore } from '../store/claims';
import { DynamoForwardStore, type ForwardStore } from '../store/forwards';
import { DynamoAccountStore, type AccountStore } from '../store/accounts';
import { DynamoIdempotencyStore, type IdempotencyStore } from '../store/idempotency';
import { DynamoMovementStore, type MovementStore } from '../store/movements';
import { cryptoRandom, type RandomSource } from '../domain/split';
import { DynamoRiskStore, type RiskStore } from '../store/risk';
import { DynamoAuditStore, type AuditStore } from '../store/audit';
import { DynamoApiKeyStore, type ApiKeyStore } from '../store/api-keys';
import { DynamoCampaignStore, type CampaignStore } from '../store/campaigns';
import { createWeChatPay, type WeChatPay } from '../wechatpay/client';
import { DynamoWithdrawalStore, type WithdrawalStore } from '../store/withdrawals';
import { DynamoPaymentStore, type PaymentStore } from '../store/payments';
import { DynamoRefundStore, type RefundStore } from '../store/refunds';
import { HttpCode2Session, sandboxProvider, type AvatarStore, type Code2Session, type PaymentProvider } from './ports';
import type { Notifier } from './ports';
import { DynamoNotificationStore, type NotificationStore } from '../store/notifications';
import { WeChatSubscribeMessages } from '../wechat/subscribe-messages';
import { DynamoDueIndex, type DueIndex } from '../store/due-index';
import { DynamoOpsFiguresStore, type OpsFiguresStore } from '../store/ops-figures';
import { DynamoReconcileStore, type ReconcileStore } from '../store/reconcile';

/** Everything a use case needs, built once per process and replaceable in tests. */
export interface Deps {
  cfg: Config;
  wallets: WalletStore;
  packets: PacketStore;
  /** Claim markers and slots: who holds which share of a packet. */
  claims: ClaimStore;
  /** The share codes minted for packets (forwards) and each account's bound on them. */
  forwards: ForwardStore;
  accounts: AccountStore;
  idem: IdempotencyStore;
  movements: MovementStore;
  risk: RiskStore;
  audit: AuditStore;
  apiKeys: ApiKeyStore;
  campaigns: CampaignStore;
  payments: PaymentProvider;
  code2session: Code2Session | undefined;
  /** WeChat Pay v3 (payments in, withdrawals); undefined where it is not configured. */
  wechatPay?: WeChatPay | undefined;
  withdrawals: WithdrawalStore;
  /** WeChat Pay payments in (top-ups, packets paid directly). */
  payIns: PaymentStore;
  /** Refunds of packets paid directly, back to their WeChat Pay payment. */
  refunds: RefundStore;
  /**
   * Subscribe messages: WeChat's open API where the mini-program (WX_APPID/WX_SECRET) and at
   * least one template are configured; undefined otherwise (no message is recorded then).
   */
  notifier?: Notifier | undefined;
  /** The subscribe messages recorded for delivery. */
  notifications: NotificationStore;
  /** The due index: what the sweeper works through, and the operator view's sweep lag. */
  due: DueIndex;
  /** The live operator figures (per minute and Lambda instance). */
  opsFigures: OpsFiguresStore;
  /** Reconciliation: its reads, its reports and its ops events. */
  reconciliation: ReconcileStore;
  random: RandomSource;
  /**
   * Uploaded avatars. Not built here: its adapter carries the S3 client, so only the functions
   * that upload or serve avatars add it (handlers/profiles.ts, handlers/avatars.ts).
   */
  avatars?: AvatarStore | undefined;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  now: () => number;
}

export function buildDeps(cfg: Config, db?: Db, overrides: Partial<Deps> = {}): Deps {
  const store = db ?? new DynamoDb({ tableName: cfg.tableName, region: cfg.region, endpoint: cfg.dynamoEndpoint });
  return {
    cfg,
    wallets: new DynamoWalletStore(store),
    packets: new DynamoPacketStore(store),
    claims: new DynamoClaimStore(store),
    forwards: new DynamoForwardStore(store),
    accounts: new DynamoAccountStore(store),
    idem: new DynamoIdempotencyStore(store),
    movements: new DynamoMovementStore(store),
    risk: new DynamoRiskStore(store),
    audit: new DynamoAuditStore(store),
    apiKeys: new DynamoApiKeyStore(store),
    campaigns: new DynamoCampaignStore(store),
    payments: sandboxProvider,
    code2session: cfg.wx ? new HttpCode2Session(cfg.wx) : undefined,
    wechatPay: cfg.wechatPay ? createWeChatPay(cfg.wechatPay) : undefined,
    withdrawals: new DynamoWithdrawalStore(store),
    payIns: new DynamoPaymentStore(store),
    refunds: new DynamoRefundStore(store),
    notifier:
      cfg.wx && Object.keys(cfg.notify?.templates ?? {}).length > 0
        ? new WeChatSubscribeMessages({ ...cfg.wx, miniprogramState: cfg.notify.miniprogramState })
        : undefined,
    notifications: new DynamoNotificationStore(store),
    due: new DynamoDueIndex(store),
    opsFigures: new DynamoOpsFiguresStore(store),
    reconciliation: new DynamoReconcileStore(store),
    random: cryptoRandom,
    now: () => Date.now(),
    ...overrides,
  };
}

let cached: Deps | undefined;
/** The process-wide dependencies (cold start builds them once). */
export function deps(): Deps {
  cached ??= buildDeps(config());
  return cached;
}
