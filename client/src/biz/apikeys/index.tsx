/**
 * 开发者密钥 (enterprise and provider accounts): API keys for the campaign API. A new key is
 * shown once — held in this page's state only, never stored, and forgotten as soon as the page
 * is left (hidden or closed) — with a copy button; the list shows name, scope, dates and
 * whether it was revoked; revoking asks first.
 */
import { Text, View } from '@tarojs/components';
import Taro, { useDidHide } from '@tarojs/taro';
import { useRef, useState } from 'react';
import { api, type ApiScope, type CreateApiKeyResponse } from '../../api';
import { ApiError, errorText } from '../../api/errors';
import { BusinessOnly } from '../components/BusinessOnly';
import { PageShell } from '../../components/PageShell';
import { aria, Btn, Empty, ErrorNote, Field, Loading } from '../../components/ui';
import { shortTime } from '../../lib/format';
import { hasControlChars } from '../../lib/text';
import { useLoad } from '../../lib/useLoad';
import '../biz.scss';

const SCOPE_TEXT: Record<ApiScope, string> = { basic: '基础', full: '全部' };
const MAX_NAME = 40;

function scopeText(scopes: readonly ApiScope[]): string {
  return scopes.map((s) => SCOPE_TEXT[s] ?? s).join('、') || '—';
}

export default function ApiKeysPage() {
  const keys = useLoad(async () => (await api.apiKeys()).items, { forbidden: true, keepError: true });
  const { data: items, loading, error, reload: load } = keys;
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<string | undefined>();
  /** The key just created: shown this once. */
  const [fresh, setFresh] = useState<CreateApiKeyResponse | undefined>();
  const [copied, setCopied] = useState<string | undefined>();
  const [confirming, setConfirming] = useState<string | undefined>();
  const [revoking, setRevoking] = useState(false);
  const [revokeError, setRevokeError] = useState<string | undefined>();
  const busy = useRef(false);

  // Leaving the page forgets the key: coming back never shows it again.
  useDidHide(() => {
    setFresh(undefined);
    setCopied(undefined);
  });

  const create = async () => {
    if (busy.current) return;
    const n = name.trim();
    if ([...n].length > MAX_NAME) return setNameError(`名称最多 ${MAX_NAME} 个字`);
    if (hasControlChars(n)) return setNameError('名称含有不支持的字符');
    setNameError(undefined);
    setCreateError(undefined);
    busy.current = true;
    setCreating(true);
    try {
      const res = await api.createApiKey(n ? { name: n } : {});
      setFresh(res);
      setCopied(undefined);
      setName('');
      void load();
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) keys.forbid();
      else
        setCreateError(
          err instanceof ApiError && err.code === 'VALIDATION_FAILED'
            ? '无法创建：有效密钥最多 20 个，请先撤销不用的密钥'
            : errorText(err),
        );
    } finally {
      busy.current = false;
      setCreating(false);
    }
  };

  const copy = async () => {
    if (!fresh) return;
    try {
      await Taro.setClipboardData({ data: fresh.apiKey });
      setCopied('已复制，请粘贴到安全的地方保存');
    } catch {
      setCopied('无法写入剪贴板，请长按或选中上面的密钥手动复制');
    }
  };

  const revoke = async (keyId: string) => {
    if (busy.current) return;
    busy.current = true;
    setRevoking(true);
    setRevokeError(undefined);
    try {
      await api.revokeApiKey(keyId);
      setConfirming(undefined);
      if (fresh?.keyId === keyId) setFresh(undefined);
      await load();
    } catch (err) {
      setRevokeError(err instanceof ApiError && err.code === 'NOT_FOUND' ? '这个密钥不存在或已撤销' : errorText(err));
      if (err instanceof ApiError && err.code === 'NOT_FOUND') void load();
    } finally {
      busy.current = false;
      setRevoking(false);
    }
  };

  if (keys.forbidden) return <BusinessOnly what="开发者密钥" />;

  return (
    <PageShell className="apikeys-page" onShowAgain={() => void load()}>
      <View className="biz-head">
        <View>
          <Text className="biz-head__title">开发者密钥</Text>
          <Text className="biz-head__meta">用 API 创建活动、查询数据。请求头带上 x-api-key: 你的密钥</Text>
        </View>
      </View>

      {fresh ? (
        <View className="secret-box" role="alert" aria-label="新密钥">
          <Text className="secret-box__title">新密钥已创建</Text>
          <Text className="secret-box__warn">
            密钥只显示这一次：离开本页后无法再次查看。请立即复制并妥善保存，不要发给他人；遗失后只能撤销并重新创建。
          </Text>
          <Text className="secret-box__key" aria-label="密钥" selectable userSelect>
            {fresh.apiKey}
          </Text>
          <Text className="hint">权限：{scopeText(fresh.scopes)}</Text>
          <View className="biz-actions">
            <Btn label="复制密钥" kind="gold" onClick={() => void copy()} />
            <Btn label="我已保存" kind="ghost" onClick={() => setFresh(undefined)} />
          </View>
          {copied ? (
            <Text className="hint" {...aria({ role: 'status' })}>
              {copied}
            </Text>
          ) : null}
        </View>
      ) : null}

      <View className="card">
        <Text className="card__title">创建新密钥</Text>
        <Field
          label="密钥名称"
          value={name}
          placeholder="例如：门店系统（可不填）"
          maxlength={MAX_NAME + 10}
          error={nameError}
          onInput={setName}
        />
        {createError ? <ErrorNote message={createError} /> : null}
        <Btn
          label="创建密钥"
          kind="primary"
          className="btn--block"
          loading={creating}
          disabled={creating}
          onClick={() => void create()}
        />
        <Text className="hint">企业账户的密钥权限为「基础」，服务商为「全部」。</Text>
      </View>

      {error ? <ErrorNote message={error} onRetry={() => void load()} /> : null}
      {!items && loading ? <Loading /> : null}
      {items && items.length === 0 ? <Empty text="还没有密钥" /> : null}
      {items?.length ? (
        <View className="biz-list" role="list" aria-label="密钥列表">
          {items.map((k) => (
            <View key={k.keyId} className="biz-item" role="listitem" aria-label={`密钥 ${k.name}`}>
              <View className="biz-item__top">
                <Text className="biz-item__name">{k.name}</Text>
                <Text className={`biz-tag ${k.revokedAt ? 'biz-tag--revoked' : 'biz-tag--active'}`}>
                  {k.revokedAt ? '已撤销' : '有效'}
                </Text>
              </View>
              <Text className="biz-item__sub">
                编号 {k.keyId} · 权限：{scopeText(k.scopes)}
              </Text>
              <Text className="biz-item__sub">
                创建于 {shortTime(k.createdAt)} · {k.lastUsedAt ? `最近使用 ${shortTime(k.lastUsedAt)}` : '从未使用'}
                {k.revokedAt ? ` · 撤销于 ${shortTime(k.revokedAt)}` : ''}
              </Text>
              {!k.revokedAt && confirming !== k.keyId ? (
                <Btn
                  label={`撤销密钥 ${k.name}（${k.keyId}）`}
                  kind="ghost"
                  onClick={() => {
                    setRevokeError(undefined);
                    setConfirming(k.keyId);
                  }}
                >
                  撤销
                </Btn>
              ) : null}
              {confirming === k.keyId ? (
                <View className="confirm-inline" role="alertdialog" aria-label={`撤销密钥「${k.name}」`}>
                  <Text className="confirm-inline__text">
                    确定撤销「{k.name}」？撤销后，使用这个密钥的请求会立即失败，且不能恢复。
                  </Text>
                  {revokeError ? <ErrorNote message={revokeError} /> : null}
                  <View className="biz-actions">
                    <Btn
                      label="确认撤销"
                      kind="primary"
                      loading={revoking}
                      disabled={revoking}
                      onClick={() => void revoke(k.keyId)}
                    />
                    <Btn label="取消" kind="ghost" disabled={revoking} onClick={() => setConfirming(undefined)} />
                  </View>
                </View>
              ) : null}
            </View>
          ))}
        </View>
      ) : null}
    </PageShell>
  );
}
