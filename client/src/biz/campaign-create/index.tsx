import Taro from '@tarojs/taro';
import { api, type CreateCampaignResponse } from '../../api';
import { ApiError } from '../../api/errors';
import { BusinessOnly } from '../components/BusinessOnly';
import { CampaignForm } from '../components/CampaignForm';
import { PageShell } from '../../components/PageShell';
import { ErrorNote } from '../../components/ui';
import { useLoad } from '../../lib/useLoad';
import '../biz.scss';

/** 创建活动: the form (fee and total debit before confirming), then the campaign's page. */
export default function CampaignCreatePage() {
  // A 403 reading the wallet is an error like any other; creating answers 403 to other accounts.
  const wallet = useLoad(() => api.wallet());
  const { error, reload: load } = wallet;

  const created = (res: CreateCampaignResponse) => {
    // Replace the form: "back" from the campaign goes to the list, not to a spent form.
    void Taro.redirectTo({
      url: `/biz/campaign/index?id=${encodeURIComponent(res.campaignId)}&created=${res.quantity}`,
    });
  };

  if (wallet.forbidden) return <BusinessOnly what="活动" />;
  return (
    <PageShell className="campaign-create-page" onShowAgain={() => void load()}>
      {error ? <ErrorNote message={`读取零钱和费率失败：${error}`} onRetry={() => void load()} /> : null}
      <CampaignForm
        limits={wallet.data ?? null}
        submit={async (body, key) => {
          try {
            return await api.createCampaign(body, key);
          } catch (err) {
            if (err instanceof ApiError && err.code === 'FORBIDDEN') wallet.forbid();
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
