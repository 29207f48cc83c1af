import type { ForwardView } from '../../../functions/src/http/contract';

/** One line of the forwarding tree, flattened for display (depth = indentation). */
export interface ForwardRow {
  id: string;
  name: string;
  at: string;
  /** 0 for a forward of the sender's own code, 1 for a forward of that forward's code, … */
  depth: number;
  /** Claims made through this forward's code. */
  claims: number;
  /** Claims through this forward and every forward below it. */
  subtotal: number;
  /** Forwards made directly from this one's code. */
  children: number;
}

const byTime = (a: ForwardView, b: ForwardView) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1);

/**
 * The API's flat forward list (each with an optional `parent`) as a depth-first list of rows:
 * children under their parent, oldest first. A forward whose parent is not in the list is shown
 * as a root; a cycle (which the server never makes) cannot loop. Flat rows, not nested views:
 * a deep chain would exceed the mini-program's template nesting depth.
 */
export function forwardRows(forwards: readonly ForwardView[] | undefined): ForwardRow[] {
  if (!forwards?.length) return [];
  const ids = new Set(forwards.map((f) => f.id));
  const kids = new Map<string, ForwardView[]>();
  const roots: ForwardView[] = [];
  for (const f of forwards) {
    if (f.parent && f.parent !== f.id && ids.has(f.parent)) {
      const list = kids.get(f.parent) ?? [];
      list.push(f);
      kids.set(f.parent, list);
    } else roots.push(f);
  }
  const seen = new Set<string>();
  const out: ForwardRow[] = [];
  const walk = (f: ForwardView, depth: number): number => {
    seen.add(f.id);
    const row: ForwardRow = {
      id: f.id,
      name: f.by.name || f.by.id,
      at: f.at,
      depth,
      claims: f.claims,
      subtotal: f.claims,
      children: 0,
    };
    out.push(row);
    for (const c of (kids.get(f.id) ?? []).sort(byTime)) {
      if (seen.has(c.id)) continue;
      row.children++;
      row.subtotal += walk(c, depth + 1);
    }
    return row.subtotal;
  };
  for (const r of roots.sort(byTime)) walk(r, 0);
  // Anything left sits on a cycle: shown as roots so that nothing is hidden.
  for (const f of [...forwards].sort(byTime)) if (!seen.has(f.id)) walk(f, 0);
  return out;
}

/** Claims through all forwards (the rest came through the sender's own QR code and link). */
export function forwardedClaims(forwards: readonly ForwardView[] | undefined): number {
  return (forwards ?? []).reduce((a, f) => a + f.claims, 0);
}

/**
 * The forwarding tree as far as loaded: the latest first page (polled, so its claim counts are
 * current) and the later pages loaded on request, each forward once (the latest copy wins).
 */
export function mergeForwards(
  latest: readonly ForwardView[] | undefined,
  later: readonly ForwardView[],
): ForwardView[] {
  const byId = new Map<string, ForwardView>();
  for (const f of later) byId.set(f.id, f);
  for (const f of latest ?? []) byId.set(f.id, f);
  return [...byId.values()];
}
