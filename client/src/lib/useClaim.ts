import { useRef, useState } from 'react';
import { api, type ClaimResponse } from '../api';
import { ApiError } from '../api/errors';
import type { GroupContext } from './useGroupContext';

/** A claim that the server says is still being processed is asked again this many times… */
const IN_PROGRESS_RETRIES = 5;
/** …this long apart. */
const IN_PROGRESS_WAIT_MS = 800;
/** The 開 coin spins at least this long: the opening animation. */
const SPIN_MS = 600;

interface ClaimOptions {
  /** The code the page was opened with. */
  code: string;
  /** 仅限本群: the claim carries the group context (fetched afresh for each attempt). */
  groupOnly: boolean | undefined;
  /** Fresh group context for one request (useGroupContext's `fetch`). */
  groupContext: () => Promise<GroupContext | undefined>;
}

/** What a claim reports back: the share, or why not (the page turns the error into its screen). */
export interface ClaimHandlers {
  claimed: (res: ClaimResponse) => void;
  failed: (err: unknown) => void;
}

/**
 * The 開 of the open page: one claim at a time (a second tap while one is out does nothing),
 * `CLAIM_IN_PROGRESS` asked again a few times, the coin spinning at least {@link SPIN_MS}, and
 * the group context sent only where it counts. `opening` is true while the claim is out; the
 * handlers are called before it turns false, in the same render.
 */
export function useClaim({ code, groupOnly, groupContext }: ClaimOptions) {
  const claiming = useRef(false);
  const [opening, setOpening] = useState(false);

  const claim = async (on: ClaimHandlers): Promise<void> => {
    if (claiming.current) return;
    claiming.current = true;
    setOpening(true);
    const started = Date.now();
    try {
      let res: ClaimResponse;
      for (let i = 0; ; i++) {
        try {
          res = await api.claim(code, groupOnly ? await groupContext() : undefined);
          break;
        } catch (err) {
          if (err instanceof ApiError && err.code === 'CLAIM_IN_PROGRESS' && i < IN_PROGRESS_RETRIES) {
            await new Promise((r) => setTimeout(r, IN_PROGRESS_WAIT_MS));
            continue;
          }
          throw err;
        }
      }
      const wait = SPIN_MS - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      on.claimed(res);
    } catch (err) {
      on.failed(err);
    } finally {
      claiming.current = false;
      setOpening(false);
    }
  };

  return { claim, opening };
}
