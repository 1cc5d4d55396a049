/**
 * The one list of gossip topics every role registers. Relays validate and forward only topics they
 * know, so the Sprint/inference protocol adds its topics here (not in a browser-only place).
 */
import { TopicRegistry } from '../registry.ts';
import { presenceTopic } from './presence.ts';

export function defaultRegistry(): TopicRegistry {
  const registry = new TopicRegistry();
  registry.register(presenceTopic);
  // Protocol topics (sprint proofs, votes, …) are registered here by the protocol issue.
  return registry;
}
