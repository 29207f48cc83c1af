import { View } from '@tarojs/components';
import { useDidHide, useDidShow } from '@tarojs/taro';
import { useEffect, useState, type ReactNode } from 'react';
import { currentSession, goLogin } from '../api/session';
import './ui.scss';

interface Props {
  children: ReactNode;
  /** The page needs a logged-in user (default): without a session it goes to the login page. */
  auth?: boolean;
  className?: string;
  /** Called each time the page is shown again (after another page was on top). */
  onShowAgain?: () => void;
}

/**
 * The frame of every page. On H5 the router keeps the pages below the top one in the DOM
 * (hidden): their content is unmounted while hidden so that only the visible page's controls
 * and labels exist (no stale duplicates for assistive technology or tests), and mounted again
 * when shown. The page component itself stays mounted, so its state survives.
 */
export function PageShell({ children, auth = true, className, onShowAgain }: Props) {
  const [shown, setShown] = useState(true);
  const [authed] = useState(() => !auth || !!currentSession());
  useEffect(() => {
    if (!authed) goLogin();
  }, [authed]);
  useDidShow(() => {
    setShown((was) => {
      if (!was) onShowAgain?.();
      return true;
    });
  });
  useDidHide(() => {
    if (process.env.TARO_ENV === 'h5') setShown(false);
  });
  if (!authed) return <View className="page page--empty" />;
  return <View className={`page ${className ?? ''}`}>{shown ? children : null}</View>;
}
