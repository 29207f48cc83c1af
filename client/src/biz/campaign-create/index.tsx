import Taro from '@tarojs/taro';
import { useCallback, useEffect, useState } from 'react';
import { api, type CreateCampaignResponse, type WalletResponse } from '../../api';
import { ApiError, errorText } from '../../api/errors';
import { BusinessOnly } from '../components/BusinessOnly';
import { CampaignForm } from '../components/CampaignForm';
import { PageShell } from '../../components/PageShell';
import { ErrorNote } from '../../components/ui';
import '../biz.scss';

/** 创建活动: the form (fee and total debit before confirming), then the campaign's page. */
export default function CampaignCreatePage() {
  const [wallet, setWallet] = useState<WalletResponse | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [forbidden, setForbidden] = useState(false);

  const load = useCallback(async () => {
    setError(undefined);
    try {
      setWallet(await api.wallet());
    } catch (err) {
      setError(errorText(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const created = (res: CreateCampaignResponse) => {
    // Replace the form: "back" from the campaign goes to the list, not to a spent form.
    void Taro.redirectTo({ url: `/biz/campaign/index?id=${encodeURIComponent(res.campaignId)}&created=${res.quantity}` });
  };

  if (forbidden) return <BusinessOnly what="活动" />;
  return (
    <PageShell className="campaign-create-page" onShowAgain={() => void load()}>
      {error ? <ErrorNote message={`读取零钱和费率失败：${error}`} onRetry={() => void load()} /> : null}
      <CampaignForm
        limits={wallet}
        submit={async (body, key) => {
          try {
            return await api.createCampaign(body, key);
          } catch (err) {
            if (err instanceof ApiError && err.code === 'FORBIDDEN') setForbidden(true);
            throw err;
          }
        }}
        onCreated={created}
        onTopUp={() => void Taro.navigateTo({ url: '/pages/wallet/index' })}
        onStale={() => void load()}
      />
    </PageShell>
  );
}
