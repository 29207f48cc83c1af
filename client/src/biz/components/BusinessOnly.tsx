import { Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { PageShell } from '../../components/PageShell';
import { Btn } from '../../components/ui';

/** The screen for a 403 on a business page: campaigns and API keys are for enterprise and provider accounts. */
export function BusinessOnly({ what }: { what: string }) {
  return (
    <PageShell className="biz-denied">
      <View className="refusal" role="alert" aria-label="无权限">
        <Text className="refusal__title">无权限</Text>
        <Text className="refusal__body">{what}仅对企业和服务商账户开放。如需开通，请联系客服升级账户。</Text>
        <Btn label="返回首页" className="btn--block" onClick={() => void Taro.reLaunch({ url: '/pages/home/index' })}>
          返回首页
        </Btn>
      </View>
    </PageShell>
  );
}
