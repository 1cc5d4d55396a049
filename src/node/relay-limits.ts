/**
 * Circuit relay v2 server limits for Sprintnet. The libp2p defaults (15 reservations, relayed
 * connections cut after 2 min or 128 KiB) are for public relays that only carry hole-punch
 * signalling; here a relayed connection also carries gossip and request/response until the WebRTC
 * upgrade finishes, and a small network puts every browser on the same relay.
 */
import type { CircuitRelayServerInit } from '@libp2p/circuit-relay-v2';

export const RELAY_SERVER_LIMITS: CircuitRelayServerInit = {
  hopTimeout: 30_000,
  maxInboundHopStreams: 256,
  maxOutboundStopStreams: 256,
  reservations: {
    maxReservations: 512,
    reservationTtl: 2 * 60 * 60_000,
    applyDefaultLimit: true,
    /** 30 minutes per relayed connection: enough for signalling and for slow WebRTC set-ups. */
    defaultDurationLimit: 30 * 60_000,
    /** 64 MiB per relayed connection: well above SDP/ICE signalling and a few large requests. */
    defaultDataLimit: 64n * 1024n * 1024n,
  },
};
