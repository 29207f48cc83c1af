import { Text, View } from '@tarojs/components';
import Taro, { useDidHide, useDidShow } from '@tarojs/taro';
import { useMemo, useState } from 'react';
import { api } from '../../api';
import { currentSession } from '../../api/session';
import { PageShell } from '../../components/PageShell';
import { QrCode } from '../../components/QrCode';
import { RefusalNotice } from '../../components/RefusalNotice';
import { Btn, Loading } from '../../components/ui';
import { qrText, shareLink } from '../../lib/links';
import { refusalOf } from '../../lib/refusal';
import { useRotatingCode } from '../../lib/useRotatingCode';
import './index.scss';

/** My 收款码: a signed receive code, rotating like a packet's live code. */
export default function ReceivePage() {
  const [visible, setVisible] = useState(true);
  const [stopped, setStopped] = useState<string | undefined>();
  useDidShow(() => setVisible(true));
  useDidHide(() => setVisible(false));
  const rot = useRotatingCode({
    fetchCode: () => api.receiveCode(),
    active: visible && !stopped,
    onFatal: (e) => setStopped(e.message),
  });
  const name = currentSession()?.name ?? '';
  const limited = useMemo(() => (rot.limited ? refusalOf(rot.limited, { op: 'code' }) : undefined), [rot.limited]);

  const copy = async () => {
    if (!rot.code) return;
    try {
      await Taro.setClipboardData({ data: shareLink(rot.code.view) });
    } catch {
      /* ignore */
    }
  };

  return (
    <PageShell className="receive-page">
      <View className="receive-card">
        <Text className="receive-card__title">二维码收款</Text>
        <Text className="receive-card__name">{name}</Text>
        <View className="receive-card__qr">
          {rot.code ? (
            <QrCode
              canvasId="receive-qr"
              text={qrText(rot.code.view)}
              size={220}
              label="我的收款码，扫码向我付款"
              dim={rot.expired}
            />
          ) : (
            <View className="qr qr--placeholder" style={{ width: '220px', height: '220px' }}>
              <Loading text="正在生成收款码…" />
            </View>
          )}
        </View>
        <Text className="receive-card__countdown" aria-label="收款码倒计时">
          {stopped ?? (rot.code ? (rot.expired ? '收款码已过期，正在刷新…' : `${rot.secondsLeft} 秒后自动刷新`) : '…')}
        </Text>
        {rot.error && !stopped ? <Text className="receive-card__warn">{rot.error}</Text> : null}
        {limited && !stopped ? <RefusalNotice refusal={limited} on={{ retry: () => void rot.refresh() }} /> : null}
        <Text className="hint hint--center">付款人用「扫一扫」扫码，或粘贴收款码付款；钱直接进入你的零钱</Text>
        {process.env.TARO_ENV === 'h5' ? (
          <Btn label="复制收款码链接" kind="ghost" disabled={!rot.code} onClick={() => void copy()} />
        ) : null}
      </View>
    </PageShell>
  );
}
