/**
 * For logs of events that repeat (presence every few seconds, gossip all the time): true the first
 * time a key is seen, and again when its value changes. Forgets everything past `limit` keys, so
 * peers that churn ids cannot grow it without bound (they are logged again, which is harmless).
 */
export function firstSeen(limit = 10_000): (key: string, value?: string) => boolean {
  const seen = new Map<string, string>();
  return (key, value = '') => {
    if (seen.get(key) === value) return false;
    if (seen.size >= limit && !seen.has(key)) seen.clear();
    seen.set(key, value);
    return true;
  };
}
