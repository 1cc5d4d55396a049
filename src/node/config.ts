/**
 * Network configuration shared by the browser node, the headless host and the relay. Every limit
 * has a default here so one place documents the wire budget (see docs/network.md).
 */
import { DEFAULT_NETWORK_ID, PROTOCOL_VERSION } from '../wallet/signing.ts';

export interface NetworkConfig {
  /** Messages from another network id are rejected. */
  networkId: string;
  /** Messages carrying another protocol version are rejected. */
  protocolVersion: number;
  /** Relay/bootstrap multiaddrs (with /p2p/<relay id>). Empty: no relay, direct dials only. */
  relays: string[];
  /** Passed to RTCPeerConnection. Default none: local networks need no STUN, and none is reachable here. */
  iceServers: RTCIceServer[];
  /** Connection manager cap, so a busy network cannot exhaust a tab. */
  maxConnections: number;
  /** Envelopes whose timestamp differs from our clock by more than this are rejected. */
  maxClockSkewMs: number;
  /** Envelopes more than this many Sprints away from `currentSprint()` are rejected. */
  sprintWindow: number;
  /** The current Sprint number, when the Sprint engine knows it; undefined skips the Sprint check. */
  currentSprint: () => number | undefined;
  /** How often this node announces itself on the presence topic. */
  presenceIntervalMs: number;
  /** Relay re-dial backoff: first delay and cap. */
  redialInitialMs: number;
  redialMaxMs: number;
  /** Peer score below which a peer is disconnected and refused for `banMs`. */
  scoreDisconnectThreshold: number;
  banMs: number;
  /** Dial discovered peers' relayed /webrtc address to get a direct connection (off: stay relayed). */
  webrtcUpgrade: boolean;
  /** Also listen on a websockets address (headless hosts and tests; browsers cannot listen). */
  listen: string[];
  /** Replay cache: live (sender, id) pairs in total, and per sender (see replay-cache.ts). */
  replayCacheMaxEntries: number;
  replayCacheMaxPerSender: number;
  /** Presence table: at most this many peers; an entry not refreshed for `presenceTtlMs` is dropped. */
  maxPresencePeers: number;
  presenceTtlMs: number;
  /** Discovery dials (WebRTC upgrades): a token bucket of this size, refilled at this rate. */
  discoveryDialBurst: number;
  discoveryDialsPerMinute: number;
  /**
   * IPs exempt from gossipsub's IP-colocation penalty (P6), besides the relays' own IPs, which are
   * always exempt (every peer reached through a relay, relayed or WebRTC, shows the relay's IP).
   */
  ipColocationWhitelist: string[];
}

export const DEFAULT_NETWORK_CONFIG: NetworkConfig = {
  networkId: DEFAULT_NETWORK_ID,
  protocolVersion: PROTOCOL_VERSION,
  relays: [],
  iceServers: [],
  maxConnections: 64,
  maxClockSkewMs: 5 * 60_000,
  sprintWindow: 1,
  currentSprint: () => undefined,
  presenceIntervalMs: 5_000,
  redialInitialMs: 1_000,
  redialMaxMs: 30_000,
  scoreDisconnectThreshold: -30,
  banMs: 10 * 60_000,
  webrtcUpgrade: true,
  listen: [],
  replayCacheMaxEntries: 100_000,
  replayCacheMaxPerSender: 1024,
  maxPresencePeers: 256,
  presenceTtlMs: 30_000,
  discoveryDialBurst: 8,
  discoveryDialsPerMinute: 30,
  ipColocationWhitelist: [],
};

export function networkConfig(overrides: Partial<NetworkConfig> = {}): NetworkConfig {
  return { ...DEFAULT_NETWORK_CONFIG, ...overrides };
}

/** Per-frame limit for streams: WebRTC data channels carry at most 16 KiB per message. */
export const MAX_FRAME_BYTES = 16 * 1024;

/** Topic names are namespaced by network, so two networks never share a mesh. */
export function topicName(networkId: string, name: string): string {
  return `/sprintnet/${networkId}/${name}/1`;
}

export function protocolName(networkId: string, name: string): string {
  return `/sprintnet/${networkId}/rpc/${name}/1`;
}
