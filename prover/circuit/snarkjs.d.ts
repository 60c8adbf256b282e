/** Minimal typings for the parts of snarkjs (which ships none) that the prover uses. */
declare module 'snarkjs' {
  export interface Logger {
    info(...a: unknown[]): void;
    warn(...a: unknown[]): void;
    error(...a: unknown[]): void;
    debug(...a: unknown[]): void;
  }
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }
  export interface VerificationKey {
    protocol: string;
    curve: string;
    nPublic: number;
    vk_alpha_1: string[];
    vk_beta_2: string[][];
    vk_gamma_2: string[][];
    vk_delta_2: string[][];
    IC: string[][];
    [k: string]: unknown;
  }
  type Bin = string | { type: 'mem'; data?: Uint8Array };
  export const wtns: {
    /** true when every R1CS constraint holds on the witness file. */
    check(r1csFileName: string, wtnsFileName: string, logger?: Logger): Promise<boolean>;
    calculate(input: Record<string, unknown>, wasmFileName: string, wtnsFileName: Bin): Promise<void>;
  };
  export const r1cs: {
    info(r1csFileName: string, logger?: Logger): Promise<unknown>;
  };
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, fileName: string, logger?: Logger): Promise<unknown>;
    contribute(oldPtau: string, newPtau: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: Logger): Promise<unknown>;
  };
  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    exportVerificationKey(zkey: string, logger?: Logger): Promise<VerificationKey>;
  };
  export const groth16: {
    prove(zkey: Bin, wtns: Bin, logger?: Logger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vk: VerificationKey, publicSignals: (string | bigint)[], proof: Groth16Proof, logger?: Logger): Promise<boolean>;
  };
}
