import { useEffect, useRef, useState } from 'react';
import { api, type CodeView, type PacketSummary } from '../api';
import { errorText } from '../api/errors';
import { shareLink } from './links';
import { COPY_FAILED, canWebShare, copyToClipboard, openShareSheet } from './shareSheet';
import { refusalOf, type Refusal } from './refusal';

interface ForwardOptions {
  /** The packet to pass on (undefined until opened). */
  packet: PacketSummary | undefined;
  /** The code the page was opened with: the new share code names it, so the chain is recorded. */
  via: string;
  /** Forwarding is offered now (a claimer or the sender, shares left, not a 专属红包). */
  allowed: boolean;
  /** The share sheet's text (H5 Web Share). */
  title: string;
}

/**
 * 转发 from the open page: mints one share code for the packet naming the code it was opened with
 * (`via`), at most one request at a time, and keeps it. weapp: minted as soon as forwarding is
 * allowed, so the share card (the page's share menu) carries it. H5: minted on the tap, its link
 * shown and copied, or handed to the Web Share sheet. A refusal (the forward limit) comes as
 * `refusal`, anything else as `error`.
 */
export function useForward({ packet, via, allowed, title }: ForwardOptions) {
  const [code, setCode] = useState<CodeView | undefined>();
  const [link, setLink] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const [busy, setBusy] = useState(false);
  const forwarding = useRef(false);

  const ensure = async (): Promise<CodeView | undefined> => {
    if (code) return code;
    if (!packet || forwarding.current) return undefined;
    forwarding.current = true;
    setBusy(true);
    setError(undefined);
    setRefusal(undefined);
    try {
      const c = await api.newCode(packet.id, 'share', via);
      setCode(c);
      return c;
    } catch (err) {
      const r = refusalOf(err, { op: 'code' });
      if (r) setRefusal(r);
      else setError(errorText(err));
      return undefined;
    } finally {
      forwarding.current = false;
      setBusy(false);
    }
  };

  // weapp: the share card needs the code before the user opens the share menu.
  const ensureRef = useRef(ensure);
  ensureRef.current = ensure;
  useEffect(() => {
    if (allowed && process.env.TARO_ENV === 'weapp') void ensureRef.current();
  }, [allowed]);

  /** H5: mint the forward's code, show its link and copy it (as the packet page shares). */
  const copy = async () => {
    const c = await ensure();
    if (!c) return;
    const url = shareLink(c);
    setLink(url);
    if (!(await copyToClipboard(url))) setError(COPY_FAILED);
  };

  /** H5 with the Web Share API: the link to the system share sheet. */
  const webShare = async () => {
    const c = await ensure();
    if (!c) return;
    const url = shareLink(c);
    setLink(url);
    await openShareSheet(title, url);
  };

  return {
    code,
    link,
    error,
    refusal,
    busy,
    copy,
    webShare,
    canWebShare: canWebShare(),
    dismissRefusal: () => setRefusal(undefined),
  };
}
