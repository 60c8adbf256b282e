import { getMerkleStateProof } from '@ethereumjs/statemanager';
import { Address, bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util';
import type { PrefixedHexString } from '@ethereumjs/util';
import { z } from 'zod';
import type { CallRequest, StateOverrides } from '../../chain/call.ts';
import { q } from '../format.ts';
import { method } from '../method.ts';
import { zAddress, zBlockRef, zCallRequest, zStateOverrides } from '../schemas.ts';
import type { CallRequestParam } from '../schemas.ts';

const latest = zBlockRef.optional().default('latest');
/** Storage keys proven between two checks of the caller's time budget. */
const PROOF_CHUNK = 64;
const zSlot = z.string().regex(/^0x[0-9a-fA-F]{0,64}$/, 'invalid storage key');

export const stateMethods = {
  eth_getBalance: method([zAddress, latest], async ([addr, ref], b) => {
    const acct = await (await b.stateAt(ref)).getAccount(addr);
    return q(acct?.balance ?? 0n);
  }),

  eth_getTransactionCount: method([zAddress, latest], async ([addr, ref], b) => {
    const state = await b.stateAt(ref === 'pending' ? 'latest' : ref);
    const nonce = (await state.getAccount(addr))?.nonce ?? 0n;
    return q(ref === 'pending' ? b.pool.pendingNonce(addr.toString(), nonce) : nonce);
  }),

  eth_getCode: method([zAddress, latest], async ([addr, ref], b) => bytesToHex(await (await b.stateAt(ref)).getCode(addr))),

  eth_getStorageAt: method([zAddress, zSlot, latest], async ([addr, slot, ref], b) => {
    const key = setLengthLeft(hexToBytes(padHex(slot)), 32);
    const value = await (await b.stateAt(ref)).getStorage(addr, key);
    return bytesToHex(setLengthLeft(value, 32));
  }),

  eth_call: method([zCallRequest, latest, zStateOverrides.optional()], async ([req, ref, overrides], b, s) => {
    const block = await b.blockByRef(ref);
    const out = await b.callGate.run(s.client, s.deadline, (budget) => b.calls.call(toCall(req), block, toOverrides(overrides), budget));
    return bytesToHex(out);
  }),

  eth_createAccessList: method([zCallRequest, latest, zStateOverrides.optional()], async ([req, ref, overrides], b, s) => {
    const block = await b.blockByRef(ref);
    const r = await b.callGate.run(s.client, s.deadline, (budget) => b.calls.createAccessList(toCall(req), block, toOverrides(overrides), budget));
    return { accessList: r.accessList, ...(r.error === undefined ? {} : { error: r.error }), gasUsed: q(r.gasUsed) };
  }),

  eth_estimateGas: method([zCallRequest, latest, zStateOverrides.optional()], async ([req, ref, overrides], b, s) => {
    const block = await b.blockByRef(ref);
    return q(await b.callGate.run(s.client, s.deadline, (budget) => b.calls.estimateGas(toCall(req), block, toOverrides(overrides), budget)));
  }),

  // proofs are read work nobody pays for, like calls: the same turns, limits and request deadline
  eth_getProof: method([zAddress, z.array(zSlot).max(1024), latest], async ([addr, slots, ref], b, s) =>
    b.callGate.run(s.client, s.deadline, async (budget) => {
      const state = await b.stateAt(ref);
      const keys = slots.map((s) => setLengthLeft(hexToBytes(padHex(s)), 32));
      const proof = await getMerkleStateProof(state, addr, keys.slice(0, PROOF_CHUNK));
      for (let i = PROOF_CHUNK; i < keys.length; i += PROOF_CHUNK) {
        budget.check();
        proof.storageProof.push(...(await getMerkleStateProof(state, addr, keys.slice(i, i + PROOF_CHUNK))).storageProof);
      }
      // ethereumjs leaves storageProof empty for a missing account; geth answers every key (value 0, no nodes)
      const storageProof = slots.map((slot, i) => {
        const p = proof.storageProof[i];
        return { key: proofKey(slot), value: q(p === undefined ? 0n : BigInt(p.value)), proof: p?.proof ?? [] };
      });
      return { ...proof, storageProof };
    }),
  ),
};

/** geth echoes a 32-byte key as sent and any shorter one as a quantity. */
function proofKey(slot: string): string {
  if (slot.length === 66) return slot.toLowerCase();
  return q(slot.length === 2 ? 0n : BigInt(slot));
}

function padHex(s: string): PrefixedHexString {
  const body = s.slice(2);
  return `0x${body.length % 2 === 1 ? `0${body}` : body}`;
}

export function toCall(r: CallRequestParam): CallRequest {
  return {
    from: r.from,
    to: r.to ?? undefined,
    gas: r.gas,
    gasPrice: r.gasPrice,
    maxFeePerGas: r.maxFeePerGas,
    maxPriorityFeePerGas: r.maxPriorityFeePerGas,
    value: r.value,
    data: r.input ?? r.data,
    ...(r.accessList === undefined ? {} : { accessList: r.accessList }),
  };
}

export function toOverrides(o: z.output<typeof zStateOverrides> | undefined): StateOverrides | undefined {
  if (o === undefined) return undefined;
  const slots = (m?: Record<string, string>) =>
    m === undefined ? undefined : new Map(Object.entries(m).map(([k, v]) => [hexToBytes(k as PrefixedHexString), hexToBytes(v as PrefixedHexString)]));
  const out: StateOverrides = new Map();
  for (const [addr, ov] of Object.entries(o)) {
    out.set(new Address(hexToBytes(addr as PrefixedHexString)), {
      balance: ov.balance,
      nonce: ov.nonce,
      code: ov.code,
      state: slots(ov.state),
      stateDiff: slots(ov.stateDiff),
    });
  }
  return out;
}
