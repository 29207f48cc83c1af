import { Button, Input, Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useRef, useState } from 'react';
import { api } from '../../api';
import { ApiError, errorText } from '../../api/errors';
import { currentSession, saveProfile } from '../../api/session';
import { Avatar } from '../../components/Avatar';
import { PageShell } from '../../components/PageShell';
import { aria, Btn, ErrorNote, Field } from '../../components/ui';
import {
  avatarTypeOf,
  base64Bytes,
  MAX_AVATAR_BYTES,
  MAX_NAME_CHARS,
  nameProblem,
  type AvatarType,
} from '../../lib/avatar';
import { paramText } from '../../lib/links';
import './index.scss';

/** Where to go after the first-login prompt: the page login was heading to, else home. */
function target(next: string | undefined): string {
  if (next) {
    const url = paramText(next);
    if (url.startsWith('/pages/') && !url.startsWith('/pages/login/') && !url.startsWith('/pages/profile/')) return url;
  }
  return '/pages/home/index';
}

/** The API's refusals in words about names and avatars (its generic messages speak of greetings). */
function profileErrorText(err: unknown): string {
  if (err instanceof ApiError && err.code === 'GREETING_REJECTED') {
    const word = typeof err.details?.word === 'string' ? err.details.word : undefined;
    return word ? `昵称含有不允许的词“${word}”，请修改` : '昵称含有不允许的内容，请修改';
  }
  if (err instanceof ApiError && err.code === 'VALIDATION_FAILED') return '昵称或头像不符合要求，请修改后再试';
  return errorText(err);
}

/** A temp file of WeChat's avatar chooser, read as base64 (FileSystemManager). */
function readTempFile(filePath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    Taro.getFileSystemManager().readFile({
      filePath,
      encoding: 'base64',
      success: (r) => resolve(String(r.data)),
      fail: (e) => reject(e),
    });
  });
}

/** A chosen file (H5) as base64, without its data: URL prefix. */
function readFileBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/**
 * 头像昵称: the profile page, and the one-time prompt right after a new account's first WeChat
 * login (`?welcome=1`, skippable). On weapp: WeChat's avatar chooser (`<Button
 * openType="chooseAvatar">`, a temp file read as base64 and uploaded) and nickname input (`<Input
 * type="nickname">`, which offers the WeChat nickname); on H5 a file input and a text field. The
 * name is checked here as the API checks it (1–20 characters, no control characters, not
 * 微信用户…); the API checks again, the greeting word filter included.
 */
export default function Profile() {
  const router = useRouter();
  const welcome = router.params.welcome === '1';
  const next = target(router.params.next);
  const session = currentSession();
  const h5 = process.env.TARO_ENV === 'h5';
  // A default name (微信用户…) is not offered for editing: the field starts empty.
  const startName = session && !session.name.startsWith('微信用户') ? session.name : '';
  const [name, setName] = useState(startName);
  const [avatar, setAvatar] = useState<string | undefined>(session?.avatar);
  const [error, setError] = useState<string | undefined>();
  const [nameError, setNameError] = useState<string | undefined>();
  const [uploading, setUploading] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const inFlight = useRef(false);

  const upload = async (read: () => Promise<string>, type: AvatarType | undefined) => {
    if (!type) {
      setError('只支持 PNG、JPEG、WebP 图片');
      return;
    }
    setUploading(true);
    setError(undefined);
    setSaved(false);
    try {
      const image = await read();
      if (base64Bytes(image) > MAX_AVATAR_BYTES) {
        setError(`图片太大（最大 ${MAX_AVATAR_BYTES / 1024} KB），请换一张`);
        return;
      }
      const r = await api.uploadAvatar({ image, contentType: type });
      setAvatar(r.avatar);
    } catch (err) {
      setError(
        err instanceof ApiError && err.code === 'VALIDATION_FAILED'
          ? '图片不符合要求（PNG、JPEG、WebP，最大 256 KB）'
          : errorText(err),
      );
    } finally {
      setUploading(false);
    }
  };

  const onChooseAvatar = (e: { detail: { avatarUrl?: string } }) => {
    const path = e.detail.avatarUrl;
    if (!path) return;
    // WeChat's chooser gives a temp file (its name carries the type; JPEG when it does not say).
    void upload(() => readTempFile(path), avatarTypeOf(path) ?? 'image/jpeg');
  };

  const onFile = (file: File | undefined) => {
    if (!file) return;
    if (file.size > MAX_AVATAR_BYTES) {
      setError(`图片太大（最大 ${MAX_AVATAR_BYTES / 1024} KB），请换一张`);
      return;
    }
    void upload(() => readFileBase64(file), avatarTypeOf(file.type || file.name));
  };

  const save = async () => {
    if (inFlight.current) return;
    const trimmed = name.trim();
    const nameChanged = trimmed !== '' && trimmed !== session?.name;
    const avatarChanged = avatar !== undefined && avatar !== session?.avatar;
    const problem = nameChanged
      ? nameProblem(trimmed)
      : !avatarChanged && !welcome && trimmed === ''
        ? nameProblem('')
        : undefined;
    if (problem) {
      setNameError(problem);
      return;
    }
    setNameError(undefined);
    if (!nameChanged && !avatarChanged) {
      if (welcome) void Taro.reLaunch({ url: next });
      else setSaved(true);
      return;
    }
    inFlight.current = true;
    setSaving(true);
    setError(undefined);
    try {
      const r = await api.updateMe({ ...(nameChanged ? { name: trimmed } : {}), ...(avatarChanged ? { avatar } : {}) });
      saveProfile(r);
      setName(r.name);
      setSaved(true);
      if (welcome) void Taro.reLaunch({ url: next });
    } catch (err) {
      setError(profileErrorText(err));
    } finally {
      inFlight.current = false;
      setSaving(false);
    }
  };

  const shownName = name.trim() || session?.name || '';
  return (
    <PageShell className="profile-page">
      <View className="profile-card">
        <Text className="profile-card__title">{welcome ? '设置你的头像和昵称' : '头像和昵称'}</Text>
        <Text className="profile-card__hint">领取记录里，大家会看到你的头像和昵称</Text>
        {h5 ? (
          <>
            <View className="profile-avatar-pick">
              <Avatar className="profile-avatar" name={shownName} avatar={avatar} />
            </View>
            <input
              className="profile-file"
              type="file"
              accept="image/png,image/jpeg,image/webp"
              aria-label="选择头像图片"
              disabled={uploading}
              onChange={(e) => onFile(e.currentTarget.files?.[0])}
            />
          </>
        ) : (
          <Button
            className="profile-avatar-pick"
            openType="chooseAvatar"
            onChooseAvatar={onChooseAvatar}
            aria-label="选择头像"
          >
            <Avatar className="profile-avatar" name={shownName} avatar={avatar} />
          </Button>
        )}
        {uploading ? (
          <Text className="hint" {...aria({ role: 'status' })}>
            头像上传中…
          </Text>
        ) : null}
        <View className="profile-form">
          {h5 ? (
            <Field
              label="昵称"
              value={name}
              placeholder={`最多 ${MAX_NAME_CHARS} 个字`}
              maxlength={MAX_NAME_CHARS * 2}
              error={nameError}
              onInput={(v) => setName(v)}
            />
          ) : (
            <>
              <Input
                className="profile-nickname"
                type="nickname"
                value={name}
                placeholder="点击使用微信昵称或输入"
                maxlength={MAX_NAME_CHARS * 2}
                aria-label="昵称"
                onInput={(e) => setName(String(e.detail.value ?? ''))}
                onBlur={(e) => setName(String(e.detail.value ?? ''))}
              />
              {nameError ? (
                <Text className="field__error" {...aria({ role: 'alert' })}>
                  {nameError}
                </Text>
              ) : null}
            </>
          )}
        </View>
        <View className="profile-actions">
          <Btn
            label="保存"
            className="btn--block"
            loading={saving}
            disabled={saving || uploading}
            onClick={() => void save()}
          >
            {saving ? '保存中…' : '保存'}
          </Btn>
          {welcome ? (
            <Btn label="跳过" kind="plain" className="btn--block" onClick={() => void Taro.reLaunch({ url: next })}>
              以后再说
            </Btn>
          ) : null}
        </View>
        {saved && !welcome ? (
          <Text className="profile-saved" {...aria({ role: 'status' })}>
            已保存
          </Text>
        ) : null}
        {error ? <ErrorNote message={error} /> : null}
      </View>
    </PageShell>
  );
}
