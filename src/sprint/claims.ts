/**
 * A nonce a host claims to be appropriate, with the distance its engine computed (spec §9). The
 * GPU engine reports them (as `FoundNonce`), the protocol commits to them in a proof, and
 * validators judge them (`validateNonces`): one type along the whole path.
 */
export interface NonceClaim {
  readonly nonce: number;
  readonly distance: number;
}

/** What a Sprint found: the same record as a claim. */
export type FoundNonce = NonceClaim;
