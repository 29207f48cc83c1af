import { Text, View } from '@tarojs/components';
import { useEffect, useState } from 'react';
import { DEV_GROUPS } from '../lib/useGroupContext';
import { aria, Btn, Field } from './ui';

interface Props {
  /** The dev group the page opens from ('' = not from a group). */
  devGroup: string;
  setDevGroup: (name: string) => void;
}

/**
 * 模拟群聊 (H5 with dev features only): which group chat this browser "opened the card from",
 * standing in for WeChat's encrypted group data so 仅限本群 can be tried in a browser.
 */
export function DevGroupChooser({ devGroup, setDevGroup }: Props) {
  const [typed, setTyped] = useState(devGroup);
  useEffect(() => setTyped(devGroup), [devGroup]);
  return (
    <View className="card dev-group" role="group" aria-label="模拟群聊">
      <Text className="dev-group__title">模拟群聊（仅开发环境）</Text>
      <View className="segmented">
        {DEV_GROUPS.map((g) => (
          <Btn key={g} label={`从${g}打开`} kind="chip" pressed={devGroup === g} onClick={() => setDevGroup(g)}>
            {g}
          </Btn>
        ))}
        <Btn label="不在群里打开" kind="chip" pressed={devGroup === ''} onClick={() => setDevGroup('')}>
          不在群里
        </Btn>
      </View>
      <Field label="群名称" value={typed} placeholder="输入其他群名" maxlength={32} onInput={setTyped} />
      <Btn
        label="从这个群打开"
        kind="ghost"
        disabled={typed.trim() === '' || typed.trim() === devGroup}
        onClick={() => setDevGroup(typed)}
      />
      <Text className="hint" {...aria({ role: 'status' })}>
        {devGroup ? `当前：从「${devGroup}」打开` : '当前：不在群里打开'}
      </Text>
    </View>
  );
}
