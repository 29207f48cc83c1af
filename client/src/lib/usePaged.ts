import { useCallback, useRef, useState } from 'react';
import { errorText } from '../api/errors';

interface Page<T> {
  items: T[];
  cursor: string | null;
}

/** A cursor-paged list: first page (refresh), next pages (more), with loading and error states. */
export function usePaged<T>(fetchPage: (cursor?: string) => Promise<Page<T>>) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const busy = useRef(false);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const generation = useRef(0);

  const refresh = useCallback(async () => {
    const gen = ++generation.current;
    busy.current = true;
    setLoading(true);
    setError(undefined);
    try {
      const page = await fetchRef.current(undefined);
      if (gen !== generation.current) return;
      setItems(page.items);
      setCursor(page.cursor);
      setLoaded(true);
    } catch (err) {
      if (gen === generation.current) setError(errorText(err));
    } finally {
      if (gen === generation.current) {
        busy.current = false;
        setLoading(false);
      }
    }
  }, []);

  const more = useCallback(async () => {
    if (busy.current || !cursor) return;
    const gen = generation.current;
    busy.current = true;
    setLoading(true);
    setError(undefined);
    try {
      const page = await fetchRef.current(cursor);
      if (gen !== generation.current) return;
      setItems((prev) => [...prev, ...page.items]);
      setCursor(page.cursor);
    } catch (err) {
      if (gen === generation.current) setError(errorText(err));
    } finally {
      if (gen === generation.current) {
        busy.current = false;
        setLoading(false);
      }
    }
  }, [cursor]);

  return { items, hasMore: !!cursor, loaded, loading, error, refresh, more };
}
