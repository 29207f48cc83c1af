import Taro from '@tarojs/taro';
import { api, type CreatePacketResponse, type PendingPacketResponse } from '../../api';
import { currentSession } from '../../api/session';
import { PageShell } from '../../components/PageShell';
import { SendForm } from '../../components/SendForm';
import { ErrorNote } from '../../components/ui';
import { storeCreatedCodes } from '../../lib/packetCodes';
import { askForMessages } from '../../lib/subscribe';
import { useLoad } from '../../lib/useLoad';
import './index.scss';

/** Whose 收款码 this is (for a 专属红包's confirmation); undefined for anything else. */
const identify = async (code: string) => {
  const v = await api.openCode(code);
  return v.target === 'receive' ? v.payee : undefined;
};

export default function Send() {
  const { data: wallet, error, reload: load } = useLoad(() => api.wallet());

  const created = (res: CreatePacketResponse) => {
    storeCreatedCodes(res);
    // Replace the form: "back" from the packet page goes home, not to a spent form.
    void Taro.redirectTo({ url: `/pages/packet/index?id=${encodeURIComponent(res.packet.id)}` });
  };

  /**
   * Paid by WeChat Pay (the API said so): the packet's codes now, then its page. Should the
   * codes fail (e.g. the packet turns active a moment later), the packet page fetches them.
   */
  const paid = async (res: PendingPacketResponse) => {
    try {
      const [code, shareCode] = await Promise.all([
        api.newCode(res.packet.id, 'live'),
        api.newCode(res.packet.id, 'share'),
      ]);
      storeCreatedCodes({ packet: { ...res.packet, status: 'active' }, code, shareCode, fee: res.fee });
    } catch {
      /* the packet page asks again */
    }
    void Taro.redirectTo({ url: `/pages/packet/index?id=${encodeURIComponent(res.packet.id)}` });
  };

  return (
    <PageShell className="send-page" onShowAgain={() => void load()}>
      {error ? <ErrorNote message={`读取零钱和限额失败：${error}`} onRetry={() => void load()} /> : null}
      <SendForm
        limits={wallet ?? null}
        // The sender's "all claimed" and "refund arrived" messages: asked in the tap, never waited on for money.
        submit={async (body, key) => {
          await askForMessages('packet', key);
          return api.createPacket(body, key);
        }}
        onCreated={created}
        onPaid={(res) => void paid(res)}
        fetchPayment={(id) => api.payment(id)}
        onTopUp={() => void Taro.navigateTo({ url: '/pages/wallet/index' })}
        onStale={() => void load()}
        me={currentSession()?.userId}
        identify={identify}
      />
    </PageShell>
  );
}
