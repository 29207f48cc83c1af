import { useDidHide } from '@tarojs/taro';
import { useState } from 'react';
import { canSpeak, speak, stopSpeaking } from './speech';
import { KEYS, load, save } from './storage';

/**
 * 语音播报: whether this platform can read aloud (H5 only), the user's choice (remembered across
 * visits), and what is read. Leaving the page stops reading.
 */
export function useReadAloud() {
  const available = canSpeak();
  const [on, setOn] = useState<boolean>(() => load<boolean>(KEYS.speech) === true);
  useDidHide(() => stopSpeaking());

  /** Turns reading on or off (remembered); turned on, it reads `current()` (what the page shows) at once. */
  const toggle = (current: () => string) => {
    const next = !on;
    setOn(next);
    save(KEYS.speech, next);
    if (!next) {
      stopSpeaking();
      return;
    }
    speak(current());
  };

  /** Reads `text` when reading is on (news as it happens: the amount just claimed). */
  const say = (text: string) => {
    if (on) speak(text);
  };

  return { available, on, toggle, say };
}
