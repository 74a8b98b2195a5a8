import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '../../../src/util/sleep.js';

// The engine's loop races running jobs against a sleep on the run's AbortSignal: a job that finishes
// first leaves that sleep pending, and the next round sleeps again. Many sleeps on one signal must not
// pile listeners onto it (Node warns with MaxListenersExceededWarning past 10).

describe('sleep', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  /** Warnings are emitted on the next tick. */
  const settle = () => new Promise((r) => setImmediate(r));

  it('many sleeps at once on one signal: no MaxListenersExceededWarning, all wake on abort', async () => {
    const ac = new AbortController();
    const all = Array.from({ length: 200 }, () => sleep(3_600_000, ac.signal));
    await settle();
    ac.abort();
    await Promise.all(all);
    await settle();
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });

  it("the engine's pattern: a race lost to a job, over and over, on one signal", async () => {
    const ac = new AbortController();
    for (let i = 0; i < 100; i++) await Promise.race([Promise.resolve(), sleep(3_600_000, ac.signal)]);
    await settle();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    ac.abort();
  });

  it('sleeps that end leave no listener behind, and one sleep wakes on its timer', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 50; i++) await sleep(0, ac.signal);
    await Promise.all(Array.from({ length: 20 }, () => sleep(1, ac.signal)));
    await settle();
    expect(warnings).toEqual([]);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const t0 = Date.now();
    await sleep(5, ac.signal);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4);
  });

  it('an aborted signal wakes at once; no signal sleeps by its timer', async () => {
    const ac = new AbortController();
    ac.abort();
    await sleep(3_600_000, ac.signal);
    await sleep(1);
  });
});
