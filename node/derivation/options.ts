/** Derivation settings (node/derivation); the node passes the defaults. */
export interface DerivationOptions {
  /** Milliseconds between looks at L1 once derivation has caught up with its head. */
  pollMs: number;
  /** Milliseconds before a step that failed on a temporary error (L1 unreachable, L1 moved) is retried. */
  retryMs: number;
}

export const defaultDerivationOptions: DerivationOptions = {
  pollMs: 1_000,
  retryMs: 2_000,
};
