/** Typed errors for the Sprint task. `code` is stable and machine-readable; `message` is for people. */
export type SprintErrorCode = 'BAD_SEED' | 'BAD_PUBLIC_KEY' | 'BAD_NONCE' | 'UNKNOWN_CONFIG' | 'BAD_ARGUMENT' | 'DUPLICATE_NONCE';

export class SprintInputError extends Error {
  override readonly name = 'SprintInputError';
  constructor(
    readonly code: SprintErrorCode,
    message: string,
  ) {
    super(message);
  }
}
