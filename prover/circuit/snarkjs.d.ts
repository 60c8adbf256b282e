/** Minimal typings for the parts of snarkjs (which ships none) that the prover uses. */
declare module 'snarkjs' {
  export interface Logger {
    info(...a: unknown[]): void;
    warn(...a: unknown[]): void;
    error(...a: unknown[]): void;
    debug(...a: unknown[]): void;
  }
  export const wtns: {
    /** true when every R1CS constraint holds on the witness file. */
    check(r1csFileName: string, wtnsFileName: string, logger?: Logger): Promise<boolean>;
    calculate(input: Record<string, unknown>, wasmFileName: string, wtnsFileName: string | { type: 'mem' }): Promise<void>;
  };
  export const r1cs: {
    info(r1csFileName: string, logger?: Logger): Promise<unknown>;
  };
}
