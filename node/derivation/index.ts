export { Derivation } from './pipeline.ts';
export type { DerivationConfig, DerivationDeps } from './pipeline.ts';
export { DerivedRollupStatus } from './derived-status.ts';
export { SerialImporter } from './serial-importer.ts';
export { DerivationError, DerivationErrorCode } from './errors.ts';
export { defaultDerivationOptions } from './options.ts';
export type { DerivationOptions } from './options.ts';
