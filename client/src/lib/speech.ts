/**
 * Reading aloud (amounts and greetings read where the platform allows). H5: the Web
 * Speech API. weapp has no built-in text-to-speech (only a plugin), so the toggle is hidden there.
 */
export function canSpeak(): boolean {
  return (
    process.env.TARO_ENV === 'h5' &&
    typeof window !== 'undefined' &&
    'speechSynthesis' in window &&
    typeof window.SpeechSynthesisUtterance === 'function'
  );
}

export function speak(text: string): void {
  if (!canSpeak() || !text) return;
  try {
    window.speechSynthesis.cancel();
    const u = new window.SpeechSynthesisUtterance(text);
    u.lang = 'zh-CN';
    u.rate = 1;
    window.speechSynthesis.speak(u);
  } catch {
    /* no voice available: silently nothing */
  }
}

export function stopSpeaking(): void {
  if (!canSpeak()) return;
  try {
    window.speechSynthesis.cancel();
  } catch {
    /* ignore */
  }
}
