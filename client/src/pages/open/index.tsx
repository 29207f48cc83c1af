import { Text, View } from '@tarojs/components';
import Taro, { useDidHide, useDidShow, useRouter, useShareAppMessage } from '@tarojs/taro';
import { useCallback, useEffect, useState } from 'react';
import { api, type PacketSummary, type PacketView } from '../../api';
import { ApiError } from '../../api/errors';
import { currentSession } from '../../api/session';
import { ClaimList } from '../../components/ClaimList';
import { PageShell } from '../../components/PageShell';
import { Avatar } from '../../components/Avatar';
import { RefusalNotice } from '../../components/RefusalNotice';
import { aria, Btn, ErrorNote, Loading } from '../../components/ui';
import { codeFromParams, openPath } from '../../lib/links';
import { formatFen, spokenYuan } from '../../lib/money';
import { screenOfError, spokenScreen, STATE_TEXT, type Screen } from '../../lib/openScreen';
import { useClaim } from '../../lib/useClaim';
import { useForward } from '../../lib/useForward';
import { groupRefusalOfView, useGroupContext } from '../../lib/useGroupContext';
import { useReadAloud } from '../../lib/useReadAloud';
import { useShareTicket } from '../../lib/shareTicket';
import { DevGroupChooser } from '../../components/DevGroupChooser';
import './index.scss';

/** The claimer's page (`pages/open/index?c=<code>`, or `?q=<code link>` from a WeChat scan): see, open (開), get. */
export default function OpenPage() {
  const { params } = useRouter();
  // `c`, or `q` when WeChat opened a scanned code link (扫普通链接二维码打开小程序).
  const code = codeFromParams(params);
  const me = currentSession()?.userId;
  const [view, setView] = useState<Screen>({ kind: 'loading' });
  const [summary, setSummary] = useState<PacketSummary | undefined>();
  const [detail, setDetail] = useState<PacketView | undefined>();
  const [visible, setVisible] = useState(true);
  // 仅限本群: the group this page was opened from (fresh for each open and claim).
  const group = useGroupContext();
  const readAloud = useReadAloud();
  const claimFlow = useClaim({ code, groupOnly: summary?.groupOnly, groupContext: group.fetch });
  const opening = claimFlow.opening;

  useDidShow(() => setVisible(true));
  useDidHide(() => setVisible(false));

  const loadDetail = useCallback(async (packetId: string) => {
    try {
      setDetail(await api.packet(packetId));
    } catch {
      /* the list is a bonus: the amount is already shown */
    }
  }, []);

  const fromError = (
    err: unknown,
    from: 'open' | 'claim' = 'open',
    recipient = summary?.recipient?.name || undefined,
  ): Screen => screenOfError(err, from, recipient);

  const open = useCallback(async () => {
    if (!code) {
      setView({ kind: 'invalid' });
      return;
    }
    setView({ kind: 'loading' });
    try {
      const res = await api.openCode(code, await group.fetch());
      if (res.target === 'receive') {
        void Taro.redirectTo({ url: `/pages/pay/index?c=${encodeURIComponent(code)}` });
        return;
      }
      setSummary(res.packet);
      const only = res.packet.recipient;
      const groupRefusal = groupRefusalOfView(res);
      if (res.myClaim) {
        setView({ kind: 'claimed', amount: res.myClaim.amount, fresh: false });
        void loadDetail(res.packet.id);
      } else if (res.claimable && only && only.id !== currentSession()?.userId) {
        // A 专属红包 for someone else: the server would refuse the claim; say so at once.
        setView(screenOfError(new ApiError('FORBIDDEN', 403), 'open', only.name || undefined));
      } else if (groupRefusal) setView({ kind: 'refused', refusal: groupRefusal, from: 'open' });
      else if (res.claimable) setView({ kind: 'ready' });
      else if (res.reason === 'PACKET_FINISHED') {
        setView({ kind: 'finished' });
        void loadDetail(res.packet.id);
      } else if (res.reason === 'PACKET_NOT_READY') setView({ kind: 'notReady' });
      else setView({ kind: 'expired' });
    } catch (err) {
      setView(screenOfError(err, 'open', undefined));
    }
  }, [code, loadDetail, group.fetch]);

  useEffect(() => {
    void open();
  }, [open]);

  const claim = () =>
    claimFlow.claim({
      claimed: (res) => {
        setView({ kind: 'claimed', amount: res.amount, fresh: !res.repeat, best: res.best });
        readAloud.say(`恭喜，你领到了${spokenYuan(res.amount)}`);
        void loadDetail(res.packetId);
      },
      failed: (err) => {
        setView(fromError(err, 'claim'));
        if (err instanceof ApiError && err.code === 'PACKET_FINISHED' && summary) void loadDetail(summary.id);
      },
    });

  // While the packet is still being claimed, keep the list fresh for people who got a share.
  const packetId = summary?.id;
  const detailActive = detail ? detail.status === 'active' : true;
  useEffect(() => {
    if (!visible || view.kind !== 'claimed' || !packetId || !detailActive) return undefined;
    const t = setInterval(() => void loadDetail(packetId), 5_000);
    return () => clearInterval(t);
  }, [visible, view.kind, packetId, detailActive, loadDetail]);

  const toggleSpeech = () => readAloud.toggle(() => spokenScreen(summary, view));

  // 转发: a claimer — or the sender — may pass the packet on while shares are left. The new share
  // code names the code this page was opened with (`via`), so the chain is recorded. Not for a
  // 专属红包: it has one recipient.
  const isSender = !!summary && !!me && summary.sender.id === me;
  const liveStatus = detail?.status ?? summary?.status;
  const canForward =
    !!summary && !summary.recipient && liveStatus === 'active' && (view.kind === 'claimed' || isSender);
  const shareTitle = summary ? `${summary.sender.name}的红包：${summary.greeting}` : '红包';
  const forwarding = useForward({ packet: summary, via: code, allowed: canForward, title: shareTitle });
  const forward = forwarding.code;
  useShareTicket(summary?.groupOnly);
  useShareAppMessage(() => ({
    title: shareTitle,
    path: forward ? openPath(forward.code) : openPath(code),
  }));

  const ended =
    view.kind !== 'loading' &&
    view.kind !== 'ready' &&
    view.kind !== 'claimed' &&
    view.kind !== 'error' &&
    view.kind !== 'refused';
  const claims = detail?.claims ?? [];

  return (
    <PageShell className={`open-page open-page--${view.kind}`} onShowAgain={() => void open()}>
      <View className="envelope">
        <View className="envelope__top">
          {summary ? (
            <>
              <View className="envelope__sender">
                <Avatar className="envelope__avatar" name={summary.sender.name} avatar={summary.sender.avatar} />
                <Text className="envelope__name" aria-label="发红包的人">
                  {summary.sender.name}
                </Text>
                <Text className="envelope__of">的红包</Text>
              </View>
              <Text className="envelope__greeting" aria-label="祝福语">
                {summary.greeting}
              </Text>
              {summary.groupOnly ? (
                <Text className="envelope__exclusive" aria-label="仅限本群">
                  仅限本群
                </Text>
              ) : null}
              {summary.recipient ? (
                <Text className="envelope__exclusive" aria-label="专属红包">
                  专属红包 · 给 {summary.recipient.name || '指定的好友'}
                </Text>
              ) : null}
            </>
          ) : view.kind === 'loading' ? (
            <Loading text="正在打开红包…" />
          ) : null}
        </View>

        {view.kind === 'ready' ? (
          <View className="envelope__open">
            <Btn
              label="开红包"
              kind="plain"
              className={`coin${opening ? ' coin--spin' : ''}`}
              disabled={opening}
              onClick={() => void claim()}
            >
              <Text className="coin__text">開</Text>
            </Btn>
            <Text className="envelope__hint">{opening ? '正在拆红包…' : '点击「開」领取红包'}</Text>
          </View>
        ) : null}

        {view.kind === 'claimed' ? (
          <View className="result">
            <View className="result__amount">
              <Text className="result__num" aria-label="领取金额">
                {formatFen(view.amount)}
              </Text>
              <Text className="result__unit">元</Text>
            </View>
            <Text className="result__state" aria-label="红包状态" {...aria({ role: 'status' })}>
              {view.fresh ? '已领取，已存入零钱' : '已领取，你领到的金额已存入零钱'}
            </Text>
            {view.best || claims.some((c) => c.best && c.userId === me) ? (
              <Text className="result__best">★ 手气最佳</Text>
            ) : null}
          </View>
        ) : null}

        {ended ? (
          <View className="ended">
            <Text className="ended__icon" aria-hidden="true">
              {view.kind === 'finished' ? '空' : view.kind === 'invalid' ? '!' : '时'}
            </Text>
            <Text className="ended__text" aria-label="红包状态" {...aria({ role: 'status' })}>
              {STATE_TEXT[view.kind]}
            </Text>
            {view.kind === 'notReady' || view.kind === 'codeExpired' ? (
              <Btn label="重新打开" kind="gold" onClick={() => void open()} />
            ) : null}
          </View>
        ) : null}

        {view.kind === 'refused' ? (
          <View className="ended">
            <RefusalNotice
              refusal={view.refusal}
              on={{
                retry: () => {
                  if (view.from === 'open') return void open();
                  setView({ kind: 'ready' }); // the 開 coin spins while the claim is retried
                  void claim();
                },
                dismiss: () => void open(),
              }}
            />
          </View>
        ) : null}

        {view.kind === 'error' ? (
          <View className="ended">
            <ErrorNote message={view.message} onRetry={() => void open()} />
          </View>
        ) : null}
      </View>

      {group.offered ? <DevGroupChooser devGroup={group.devGroup} setDevGroup={group.setDevGroup} /> : null}

      <View className="open-page__tools">
        {readAloud.available ? (
          <Btn label="语音播报" kind="chip" pressed={readAloud.on} onClick={toggleSpeech}>
            {readAloud.on ? '语音播报：开' : '语音播报：关'}
          </Btn>
        ) : null}
        {canForward ? (
          process.env.TARO_ENV === 'weapp' ? (
            <Btn label="转发红包" kind="chip" openType="share">
              转发给朋友
            </Btn>
          ) : (
            <>
              <Btn
                label="转发红包"
                kind="chip"
                loading={forwarding.busy}
                disabled={forwarding.busy}
                onClick={() => void forwarding.copy()}
              >
                {forwarding.link ? '转发（再次复制链接）' : '转发（复制链接）'}
              </Btn>
              {forwarding.canWebShare ? (
                <Btn
                  label="分享给朋友"
                  kind="chip"
                  disabled={forwarding.busy}
                  onClick={() => void forwarding.webShare()}
                />
              ) : null}
            </>
          )
        ) : null}
      </View>
      {forwarding.link ? (
        <View className="open-page__forward" {...aria({ role: 'status' })}>
          <Text className="hint hint--center">把下面的链接发给朋友即可领取，经这个链接领取的红包会记在转发记录里</Text>
          <Text className="share__link" aria-label="转发链接" selectable userSelect>
            {forwarding.link}
          </Text>
        </View>
      ) : null}
      {forwarding.refusal ? (
        <RefusalNotice
          refusal={forwarding.refusal}
          on={{ retry: () => void forwarding.copy(), dismiss: forwarding.dismissRefusal }}
        />
      ) : null}
      {forwarding.error ? <ErrorNote message={forwarding.error} /> : null}

      {detail && claims.length ? (
        <View className="open-page__list">
          <Text className="open-page__summary">
            {detail.status === 'active'
              ? `已领取 ${detail.claimedCount}/${detail.count} 个`
              : `${detail.count} 个红包共 ${formatFen(detail.total)} 元，${detail.claimedCount === detail.count ? '已被领完' : '已过期'}`}
          </Text>
          <ClaimList claims={claims} me={me} finished={detail.status !== 'active'} />
        </View>
      ) : null}

      <View className="open-page__foot">
        <Btn label="查看我的零钱" kind="plain" onClick={() => void Taro.navigateTo({ url: '/pages/wallet/index' })} />
        <Btn label="返回首页" kind="plain" onClick={() => void Taro.reLaunch({ url: '/pages/home/index' })} />
      </View>
    </PageShell>
  );
}
