/**
 * ServiceLoop's quiet gate: after an idle step, the step is not run again while the gate's key is
 * unchanged, until a poke or maxMs; a busy step, a failed one or a changed key runs it again.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceLoop } from '../../node/l1/l1-loop.ts';
import type { StepResult } from '../../node/l1/l1-loop.ts';

const logger = pino({ level: 'silent' });
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `f()` holds (10 s at most): counts, not timings, are what the tests check. */
async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !f(); i++) await tick(10);
  expect(f()).toBe(true);
}

describe('ServiceLoop quiet gate', () => {
  const loops: ServiceLoop[] = [];
  afterEach(async () => {
    for (const l of loops.splice(0)) await l.stop();
  });

  function loop(answer: () => StepResult | Promise<StepResult>, maxMs = 60_000) {
    let key = 'a';
    let steps = 0;
    const l = new ServiceLoop({ pollMs: 5, maxBackoffMs: 5 }, logger, async () => {
      steps++;
      return answer();
    });
    l.quietWhileUnchanged({ key: () => key, maxMs });
    loops.push(l);
    l.start();
    return { l, steps: () => steps, setKey: (k: string) => (key = k) };
  }

  it('runs an idle step once per key, again on a poke or a new key', async () => {
    const t = loop(() => 'idle');
    await until(() => t.steps() === 1);
    // twelve polls or more of the same key: no step
    await tick(60);
    expect(t.steps()).toBe(1);
    t.l.poke();
    await until(() => t.steps() === 2);
    await tick(60);
    expect(t.steps()).toBe(2);
    t.setKey('b');
    await until(() => t.steps() === 3);
    await tick(60);
    expect(t.steps()).toBe(3);
  });

  it('keeps stepping while steps are busy or failing, and every maxMs with the same key', async () => {
    let n = 0;
    const busy = loop(() => (++n < 5 ? 'busy' : 'idle'));
    let f = 0;
    const failing = loop(() => {
      if (++f < 4) throw new Error('L1 down');
      return 'idle';
    });
    const stale = loop(() => 'idle', 20);
    await until(() => busy.steps() === 5 && failing.steps() === 4 && stale.steps() >= 3);
    // idle now, with the same key: no more steps
    await tick(60);
    expect(busy.steps()).toBe(5);
    expect(failing.steps()).toBe(4);
  });
});
