import type { z } from 'zod';
import { invalidParams } from './errors.ts';
import type { RpcBackend } from './backend.ts';
import type { RequestScope } from './request-scope.ts';

type Outputs<S extends readonly z.ZodType[]> = { [K in keyof S]: z.output<S[K]> };

export interface MethodDef {
  parse(params: unknown): unknown[];
  run(args: unknown[], backend: RpcBackend, scope: RequestScope): Promise<unknown>;
}

/**
 * Declares a method with positional parameter schemas; params are validated before the
 * handler runs, with geth's "invalid argument N: ..." wording.
 */
export function method<const S extends readonly z.ZodType[]>(schemas: S, run: (args: Outputs<S>, backend: RpcBackend, scope: RequestScope) => unknown): MethodDef {
  const required = schemas.filter((s) => !s.safeParse(undefined).success).length;
  return {
    parse(params: unknown): unknown[] {
      const list = params === undefined || params === null ? [] : params;
      if (!Array.isArray(list)) throw invalidParams('non-array args');
      if (list.length > schemas.length) throw invalidParams(`too many arguments, want at most ${schemas.length}`);
      if (list.length < required) throw invalidParams(`missing value for required argument ${list.length}`);
      return schemas.map((schema, i) => {
        // geth takes a JSON null in an optional position as the argument left out
        let r = schema.safeParse(list[i]);
        if (!r.success && list[i] === null) {
          const absent = schema.safeParse(undefined);
          if (absent.success) r = absent;
        }
        if (!r.success) {
          const issue = specific(r.error.issues[0]);
          const where = issue && issue.path.length > 0 ? ` (at ${issue.path.join('.')})` : '';
          throw invalidParams(`invalid argument ${i}: ${issue?.message ?? 'invalid value'}${where}`);
        }
        return r.data;
      });
    },
    async run(args, backend, scope) {
      return run(args as Outputs<S>, backend, scope);
    },
  };
}

type Issue = z.core.$ZodIssue;

/**
 * A union (block tag or number, block reference...) reports only "Invalid input"; say instead
 * what the most plausible alternative found wrong: a format problem (e.g. "hex string without
 * 0x prefix") over a type mismatch over "not one of the tags".
 */
function specific(issue: Issue | undefined): Issue | undefined {
  if (issue?.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const rank = (i: Issue) => (i.code === 'invalid_value' ? 2 : i.code === 'invalid_type' ? 1 : 0);
  const firsts = issue.errors.map((branch) => specific(branch[0])).filter((i): i is Issue => i !== undefined);
  const best = firsts.sort((a, b) => rank(a) - rank(b))[0];
  return best === undefined ? issue : { ...best, path: [...issue.path, ...best.path] };
}
