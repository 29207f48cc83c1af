import { Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useRef, useState } from 'react';
import { api } from '../../api';
import { devLoginEnabled } from '../../api/config';
import { ApiError, errorText } from '../../api/errors';
import { devUserFor, saveSession } from '../../api/session';
import { paramText } from '../../lib/links';
import { PageShell } from '../../components/PageShell';
import { RefusalNotice } from '../../components/RefusalNotice';
import { refusalOf, type Refusal } from '../../lib/refusal';
import { Btn, ErrorNote, Field } from '../../components/ui';
import './index.scss';

const QUICK = ['alice', 'bob', 'carol'];

/** Where to go after logging in: the page that sent us here, else home. */
function target(next: string | undefined): string {
  if (next) {
    const url = paramText(next);
    if (/^\/(pages|biz|ops)\//.test(url) && !url.startsWith('/pages/login/')) return url;
  }
  return '/pages/home/index';
}

export default function Login() {
  const router = useRouter();
  const next = router.params.next;
  const dev = devLoginEnabled();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  /** A refusal of this device or account (DEVICE_LIMIT: a 4th account on this device in 7 days). */
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);

  const done = (url: string) => {
    void Taro.reLaunch({ url });
  };

  const devLogin = async (picked?: string) => {
    const n = (picked ?? name).trim();
    if (!n) {
      setError('请输入昵称');
      return;
    }
    if ([...n].length > 32) {
      setError('昵称最多 32 个字');
      return;
    }
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setError(undefined);
    setRefusal(undefined);
    try {
      const s = await api.login({ devUser: devUserFor(n), name: n });
      saveSession(s);
      done(target(next));
    } catch (err) {
      const r = refusalOf(err, { op: 'login' });
      if (r) setRefusal(r);
      else setError(errorText(err));
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  const wechatLogin = async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setError(undefined);
    setRefusal(undefined);
    try {
      const { code } = await Taro.login();
      if (!code) throw new ApiError('NETWORK_ERROR', 0);
      const s = await api.login({ code });
      saveSession(s);
      // A new account (its name a default 微信用户…): offer the avatar chooser and nickname once.
      done(s.newAccount ? `/pages/profile/index?welcome=1&next=${encodeURIComponent(target(next))}` : target(next));
    } catch (err) {
      const r = refusalOf(err, { op: 'login' });
      if (r) setRefusal(r);
      else setError(err instanceof ApiError ? err.message : '微信登录失败，请重试');
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  return (
    <PageShell auth={false} className="login">
      <View className="login__hero">
        <View className="login__packet" aria-hidden="true">
          <Text className="login__seal">¥</Text>
        </View>
        <Text className="login__title">红包码</Text>
        <Text className="login__subtitle">发红包 · 扫码领 · 收付款</Text>
      </View>
      <View className="login__card">
        {dev ? (
          <>
            <Text className="login__mode">本地测试登录：起个昵称即可</Text>
            <Field label="昵称" value={name} placeholder="例如 alice" maxlength={32} onInput={(v) => setName(v)} />
            <Btn label="登录" className="btn--block" loading={busy} disabled={busy} onClick={() => void devLogin()}>
              {busy ? '登录中…' : '登录'}
            </Btn>
            <View className="login__quick">
              <Text className="hint">快速选择：</Text>
              {QUICK.map((q) => (
                <Btn key={q} label={`用户 ${q}`} kind="chip" disabled={busy} onClick={() => void devLogin(q)}>
                  {q}
                </Btn>
              ))}
            </View>
          </>
        ) : (
          <>
            <Text className="login__mode">使用微信账号登录</Text>
            <Btn label="登录" className="btn--block" loading={busy} disabled={busy} onClick={() => void wechatLogin()}>
              {busy ? '登录中…' : '微信一键登录'}
            </Btn>
          </>
        )}
        {refusal ? (
          <RefusalNotice
            refusal={refusal}
            on={{
              switchAccount: () => {
                setRefusal(undefined);
                setName('');
              },
              retry: () => void (dev ? devLogin() : wechatLogin()),
              dismiss: () => setRefusal(undefined),
            }}
          />
        ) : null}
        {error ? <ErrorNote message={error} /> : null}
      </View>
    </PageShell>
  );
}
