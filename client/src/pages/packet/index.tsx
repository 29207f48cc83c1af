import { Text, View } from '@tarojs/components';
import Taro, { useDidHide, useDidShow, useRouter, useShareAppMessage } from '@tarojs/taro';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, type CodeView, type ForwardView, type PacketView } from '../../api';
import { ApiError, errorText } from '../../api/errors';
import { currentSession } from '../../api/session';
import { ClaimList } from '../../components/ClaimList';
import { ForwardTree } from '../../components/ForwardTree';
import { PageShell } from '../../components/PageShell';
import { QrCode } from '../../components/QrCode';
import { RefusalNotice } from '../../components/RefusalNotice';
import { aria, Btn, ErrorNote, Loading } from '../../components/ui';
import { expiresIn, STATUS_TEXT } from '../../lib/format';
import { openPath, qrText, shareLink } from '../../lib/links';
import { mergeForwards } from '../../lib/forwards';
import { formatYuan } from '../../lib/money';
import { loadCodes, saveLive, saveShare } from '../../lib/packetCodes';
import { refusalOf, type Refusal } from '../../lib/refusal';
import { refreshDelayMs, useRotatingCode, type HeldCode } from '../../lib/useRotatingCode';
import { COPY_FAILED, canWebShare, copyToClipboard, openShareSheet } from '../../lib/shareSheet';
import { useShareTicket } from '../../lib/shareTicket';
import './index.scss';

const POLL_MS = 3_000;

/** A stored live code is reused only before its refresh time (e.g. right after creating the packet). */
function freshLive(held: HeldCode | undefined, now = Date.now()): HeldCode | undefined {
  if (!held?.view?.code) return undefined;
  return now - held.receivedAt < refreshDelayMs(held.view) ? held : undefined;
}

/** The sender's page: the live QR code (rotating), the share card or link, and who claimed. */
export default function PacketPage() {
  const { params } = useRouter();
  const id = params.id ?? '';
  const me = currentSession()?.userId;
  const [initial] = useState(() => loadCodes(id));
  const [packet, setPacket] = useState<PacketView | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [share, setShare] = useState<CodeView | undefined>(initial.share);
  const [link, setLink] = useState<string | undefined>();
  const [shareBusy, setShareBusy] = useState(false);
  const [shareError, setShareError] = useState<string | undefined>();
  const [shareRefusal, setShareRefusal] = useState<Refusal | undefined>();
  const [visible, setVisible] = useState(true);
  const [fatal, setFatal] = useState<Refusal | undefined>();
  const polling = useRef(false);
  /** Forwarding tree pages after the first (loaded on request) and the cursor of the next one. */
  const [laterForwards, setLaterForwards] = useState<ForwardView[]>([]);
  const [nextForwards, setNextForwards] = useState<string | null | undefined>();
  const [moreBusy, setMoreBusy] = useState(false);
  const [moreError, setMoreError] = useState<string | undefined>();
  /** Set once a later page is loaded: from then on the next cursor is that page's, not the poll's. */
  const laterLoaded = useRef(false);
  /** After a 429 the poll waits out Retry-After instead of counting more refusals. */
  const pausedUntil = useRef(0);

  useDidShow(() => setVisible(true));
  useDidHide(() => setVisible(false));

  const loadPacket = useCallback(async () => {
    if (!id || polling.current || Date.now() < pausedUntil.current) return;
    polling.current = true;
    try {
      const p = await api.packet(id);
      setPacket(p);
      setLoadError(undefined);
      // Until more pages are asked for, the next page is the first page's.
      setNextForwards((n) => (laterLoaded.current ? n : p.forwardsCursor));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'RATE_LIMITED')
        pausedUntil.current = Date.now() + (err.retryAfter ?? 60) * 1000;
      // A failed poll keeps what is shown; only a first load shows the error.
      setLoadError(errorText(err));
    } finally {
      polling.current = false;
    }
  }, [id]);

  /** The next page of the forwarding tree, appended to what is shown. */
  const loadMoreForwards = async () => {
    if (!nextForwards || moreBusy) return;
    setMoreBusy(true);
    setMoreError(undefined);
    try {
      const p = await api.packet(id, nextForwards);
      laterLoaded.current = true;
      setLaterForwards((prev) => [...prev, ...(p.forwards ?? [])]);
      setNextForwards(p.forwardsCursor ?? null);
    } catch (err) {
      setMoreError(errorText(err));
    } finally {
      setMoreBusy(false);
    }
  };

  const status = packet?.status;
  const active = status === 'active' || (status === undefined && !loadError);
  const isSender = !packet || packet.sender.id === me;

  const rot = useRotatingCode({
    fetchCode: () => api.newCode(id, 'live'),
    initial: freshLive(initial.live),
    active: visible && active && isSender && !fatal && !!id,
    onFatal: (e: ApiError) => {
      if (e.code === 'FORBIDDEN') setFatal(refusalOf(e, { op: 'code' }));
      void loadPacket();
    },
  });

  // Memoized: a new refusal object restarts the notice's countdown.
  const limited = useMemo(() => (rot.limited ? refusalOf(rot.limited, { op: 'code' }) : undefined), [rot.limited]);

  useEffect(() => {
    if (rot.code) saveLive(id, rot.code);
  }, [id, rot.code]);

  // First load, then poll while shown and still active.
  useEffect(() => {
    void loadPacket();
  }, [loadPacket]);
  useEffect(() => {
    if (!visible || !active) return undefined;
    const t = setInterval(() => void loadPacket(), POLL_MS);
    return () => clearInterval(t);
  }, [visible, active, loadPacket]);

  /** The share code (minted when the packet was created, or now). */
  const ensureShare = useCallback(async (): Promise<CodeView | undefined> => {
    if (share) return share;
    try {
      const s = await api.newCode(id, 'share');
      setShare(s);
      saveShare(id, s);
      setShareRefusal(undefined);
      return s;
    } catch (err) {
      const r = refusalOf(err, { op: 'code' });
      if (r) setShareRefusal(r);
      else setShareError(errorText(err));
      return undefined;
    }
  }, [id, share]);

  useEffect(() => {
    if (!share && status === 'active' && isSender) void ensureShare();
  }, [share, status, isSender, ensureShare]);

  const title = packet ? `${packet.sender.name}的红包：${packet.greeting}` : '给你发了一个红包';
  // 仅限本群: the card carries a share ticket, so the group it lands in can be verified.
  useShareTicket(packet?.groupOnly);
  useShareAppMessage(() => ({
    title,
    path: share ? openPath(share.code) : '/pages/home/index',
  }));

  const copyLink = async () => {
    if (shareBusy) return;
    setShareBusy(true);
    setShareError(undefined);
    setShareRefusal(undefined);
    try {
      const s = await ensureShare();
      if (!s) return;
      const url = shareLink(s);
      setLink(url);
      if (!(await copyToClipboard(url))) setShareError(COPY_FAILED);
    } finally {
      setShareBusy(false);
    }
  };

  const webShare = async () => {
    const s = await ensureShare();
    if (!s) return;
    const url = shareLink(s);
    setLink(url);
    await openShareSheet(title, url);
  };

  if (!id) {
    return (
      <PageShell>
        <ErrorNote message="缺少红包编号" />
      </PageShell>
    );
  }

  const claims = packet?.claims ?? [];
  const finished = status !== undefined && status !== 'active';

  return (
    <PageShell className="packet-page" onShowAgain={() => void loadPacket()}>
      <View className="hb-card">
        <View className="hb-card__top">
          <Text className="hb-card__from">{packet ? `${packet.sender.name}的红包` : '红包'}</Text>
          <Text className="hb-card__greeting">{packet?.greeting ?? ' '}</Text>
          {packet ? (
            <Text className="hb-card__total">
              {formatYuan(packet.total)} · {packet.count} 个 ·{' '}
              {packet.recipient ? '专属红包' : packet.mode === 'lucky' ? '拼手气' : '普通'}
            </Text>
          ) : null}
          {packet?.groupOnly ? (
            <Text className="hb-card__exclusive" aria-label="仅限本群">
              仅限本群 · 分享到群聊后，只有那个群的成员可以领取
            </Text>
          ) : null}
          {packet?.recipient ? (
            <Text className="hb-card__exclusive" aria-label="专属红包">
              专属红包 · 给 {packet.recipient.name || '指定的好友'}，只有 TA 可以领取
            </Text>
          ) : null}
        </View>

        {active && isSender && !fatal ? (
          <View className="hb-card__qr">
            {rot.code ? (
              <QrCode
                canvasId="packet-qr"
                text={qrText(rot.code.view)}
                size={220}
                label="红包二维码，扫码领取"
                dim={rot.expired}
              />
            ) : (
              <View className="qr qr--placeholder" style={{ width: '220px', height: '220px' }}>
                <Loading text="正在生成二维码…" />
              </View>
            )}
            <Text className="hb-card__countdown" aria-label="二维码倒计时" aria-live="off">
              {rot.code ? (rot.expired ? '二维码已过期，正在刷新…' : `${rot.secondsLeft} 秒后自动刷新`) : '…'}
            </Text>
            <Text className="hb-card__tip">当面扫码领取 · 二维码每分钟自动更新</Text>
            {rot.error ? <Text className="hb-card__warn">{rot.error}</Text> : null}
          </View>
        ) : null}
        {fatal ? <RefusalNotice refusal={fatal} /> : null}
        {finished ? (
          <Text className="hb-card__status" {...aria({ role: 'status' })}>
            {STATUS_TEXT[status!]}
            {packet && packet.refundedAmount > 0
              ? `，已退回${packet.refundedTo === 'wechatpay' ? '微信支付' : packet.refundedTo === 'balance' ? '零钱' : ''} ${formatYuan(packet.refundedAmount)}`
              : ''}
          </Text>
        ) : null}
      </View>

      {packet ? (
        <View className="progress" aria-label="领取进度" role="status">
          <Text className="progress__main">
            已领取 {packet.claimedCount}/{packet.count}
          </Text>
          <Text className="progress__sub">
            {' '}
            个，共 {formatYuan(packet.claimedAmount)}/{formatYuan(packet.total)}
          </Text>
        </View>
      ) : loadError ? (
        <ErrorNote message={loadError} onRetry={() => void loadPacket()} />
      ) : (
        <Loading />
      )}

      {limited && active && isSender && !fatal ? (
        <RefusalNotice refusal={limited} on={{ retry: () => void rot.refresh() }} />
      ) : null}

      {active && isSender && !fatal ? (
        <View className="share">
          {process.env.TARO_ENV === 'weapp' ? (
            <Btn label="发给朋友" kind="gold" openType="share" className="btn--block">
              发给朋友 / 群聊
            </Btn>
          ) : (
            <View className="share__row">
              <Btn
                label="复制链接"
                kind="gold"
                loading={shareBusy}
                disabled={shareBusy}
                onClick={() => void copyLink()}
              >
                复制链接
              </Btn>
              {canWebShare() ? <Btn label="分享给朋友" kind="ghost" onClick={() => void webShare()} /> : null}
            </View>
          )}
          {link ? (
            <Text className="share__link" aria-label="分享链接" selectable userSelect>
              {link}
            </Text>
          ) : null}
          {shareRefusal ? (
            <RefusalNotice
              refusal={shareRefusal}
              on={{
                retry: () => void (process.env.TARO_ENV === 'weapp' ? ensureShare() : copyLink()),
                dismiss: () => setShareRefusal(undefined),
              }}
            />
          ) : null}
          {shareError ? <ErrorNote message={shareError} /> : null}
          {packet ? (
            <Text className="hint hint--center">
              {expiresIn(packet.expiresAt)}，未领完的钱自动
              {packet.funding === 'wechatpay' ? '原路退回微信支付' : '退回零钱'}
            </Text>
          ) : null}
        </View>
      ) : null}

      <ClaimList
        claims={claims}
        me={me}
        finished={status === 'finished' || (finished && claims.length === packet?.count)}
      />

      {/* The sender sees how the packet travelled: each forward, through whose, and its claims. */}
      {packet && isSender ? (
        <ForwardTree
          forwards={mergeForwards(packet.forwards, laterForwards)}
          claimedCount={packet.claimedCount}
          complete={!nextForwards}
        />
      ) : null}
      {packet && isSender && nextForwards ? (
        <Btn
          label="查看更多转发记录"
          kind="plain"
          loading={moreBusy}
          disabled={moreBusy}
          onClick={() => void loadMoreForwards()}
        />
      ) : null}
      {moreError ? <ErrorNote message={moreError} /> : null}

      <View className="packet-page__foot">
        <Btn label="返回首页" kind="plain" onClick={() => void Taro.reLaunch({ url: '/pages/home/index' })} />
      </View>
    </PageShell>
  );
}
