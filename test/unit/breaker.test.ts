import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/db/breaker.js';
import { withDatabaseBudget } from '../../src/db/budget.js';

const unreachable = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const never = () => new Promise<never>(() => {});

/** A breaker whose probe answers as `service.up` says. */
function breakerWith(options: { threshold?: number; deadlineMs?: number; concurrency?: number; evidenceMs?: number } = {}) {
  const service = { up: false, probes: 0 };
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    service: 'database',
    deadlineMs: options.deadlineMs ?? 1000,
    threshold: options.threshold ?? 3,
    concurrency: options.concurrency,
    evidenceMs: options.evidenceMs,
    probeIntervalMs: 20,
    probe: () => {
      service.probes += 1;
      return service.up ? Promise.resolve(1) : Promise.reject(unreachable());
    },
    onChange: (state) => changes.push(state),
  });
  return { breaker, service, changes };
}

/** Resolves once `predicate` holds (checked every few ms), for state the breaker reaches by its own timer. */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; !predicate(); i++) {
    if (i > 500) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('CircuitBreaker', () => {
  it('fails a call that outlives the deadline with DeadlineError', async () => {
    const { breaker } = breakerWith({ deadlineMs: 30 });
    await expect(breaker.run(never)).rejects.toMatchObject({ name: 'DeadlineError' });
    expect(breaker.state).toBe('closed'); // one failure is not an outage
  });

  it('opens after the threshold of consecutive unavailable failures, then refuses without calling', async () => {
    const { breaker, changes } = breakerWith({ threshold: 3 });
    for (let i = 0; i < 3; i++) await expect(breaker.run(() => Promise.reject(unreachable()))).rejects.toThrow();
    expect(breaker.state).not.toBe('closed');
    expect(changes).toEqual(['open']);
    let called = 0;
    for (let i = 0; i < 20; i++) {
      await expect(breaker.run(async () => ++called)).rejects.toMatchObject({ name: 'CircuitOpenError' });
    }
    expect(called).toBe(0);
    breaker.stop();
  });

  it('counts only failures of reaching the service, and a success resets the count', async () => {
    const { breaker } = breakerWith({ threshold: 2 });
    const constraint = Object.assign(new Error('duplicate key'), { code: '23505' });
    await expect(breaker.run(() => Promise.reject(unreachable()))).rejects.toThrow();
    await expect(breaker.run(() => Promise.reject(constraint))).rejects.toThrow('duplicate key');
    await expect(breaker.run(() => Promise.reject(unreachable()))).rejects.toThrow();
    await expect(breaker.run(async () => 'ok')).resolves.toBe('ok');
    await expect(breaker.run(() => Promise.reject(unreachable()))).rejects.toThrow();
    expect(breaker.state).toBe('closed');
  });

  it('probes by itself while open and closes when a probe answers', async () => {
    const { breaker, service, changes } = breakerWith({ threshold: 1 });
    await expect(breaker.run(() => Promise.reject(unreachable()))).rejects.toThrow();
    await until(() => service.probes >= 2); // failed probes keep it open
    expect(breaker.state).not.toBe('closed');
    service.up = true;
    await until(() => breaker.state === 'closed');
    expect(changes).toEqual(['open', 'closed']);
    await expect(breaker.run(async () => 'back')).resolves.toBe('back');
  });

  it('sends no probe once stopped', async () => {
    const { breaker, service } = breakerWith({ threshold: 1 });
    await expect(breaker.run(() => Promise.reject(unreachable()))).rejects.toThrow();
    breaker.stop();
    const probes = service.probes;
    await new Promise((resolve) => setTimeout(resolve, 80)); // four probe intervals
    expect(service.probes).toBe(probes);
  });

  describe('waiting is not silence (issue 19, findings 1 and 9)', () => {
    it('does not count calls that ran out of time waiting for a turn: a busy pool is no outage', async () => {
      const { breaker, changes } = breakerWith({ threshold: 1, concurrency: 2, deadlineMs: 1000 });
      const slow = () => new Promise((resolve) => setTimeout(resolve, 150, 'done'));
      const holders = [breaker.run(slow), breaker.run(slow)];
      // Each may wait 60 ms, while the turns are taken for 150.
      const waiting = Array.from({ length: 10 }, () => breaker.run(async () => 'never ran', 60));
      for (const call of waiting) await expect(call).rejects.toMatchObject({ name: 'GateTimeoutError' });
      expect(breaker.state).toBe('closed');
      expect(changes).toEqual([]);
      expect(breaker.load).toEqual({ holding: 2, waiting: 0 });
      await expect(Promise.all(holders)).resolves.toEqual(['done', 'done']);
      breaker.stop();
    });

    it('holds a turn until its call settles, past the call deadline: the connection is busy until then', async () => {
      const { breaker } = breakerWith({ threshold: 5, concurrency: 1, deadlineMs: 30 });
      let finish!: () => void;
      const late = breaker.run(() => new Promise<void>((resolve) => (finish = resolve)));
      await expect(late).rejects.toMatchObject({ name: 'DeadlineError' });
      expect(breaker.load.holding).toBe(1);
      const next = breaker.run(async () => 'second', 1000);
      expect(breaker.load.waiting).toBe(1);
      finish();
      await expect(next).resolves.toBe('second');
      expect(breaker.load).toEqual({ holding: 0, waiting: 0 });
    });

    it('counts a call the service left silent for the evidence time', async () => {
      const { breaker, changes } = breakerWith({ threshold: 1, deadlineMs: 40, evidenceMs: 40 });
      await expect(breaker.run(never)).rejects.toMatchObject({ name: 'DeadlineError' });
      expect(changes).toEqual(['open']);
      breaker.stop();
    });

    it('does not count a call cut short by its operation budget', async () => {
      const { breaker, changes } = breakerWith({ threshold: 1, deadlineMs: 1000, evidenceMs: 500 });
      await expect(withDatabaseBudget(30, () => breaker.run(never))).rejects.toMatchObject({ name: 'DeadlineError' });
      expect(breaker.state).toBe('closed');
      expect(changes).toEqual([]);
    });

    it("gives each call only what is left of its operation's budget", async () => {
      const { breaker } = breakerWith({ threshold: 5, deadlineMs: 1000 });
      const spent = withDatabaseBudget(120, async () => {
        await breaker.run(() => new Promise((resolve) => setTimeout(resolve, 80)));
        await breaker.run(never);
      });
      const error = (await spent.catch((e: unknown) => e)) as Error;
      expect(error.name).toBe('DeadlineError');
      // The second call had what was left of 120 ms, not its own 1000.
      const allowed = Number(/within (\d+) ms/.exec(error.message)?.[1]);
      expect(allowed).toBeGreaterThan(0);
      expect(allowed).toBeLessThanOrEqual(120 - 80 + 5);
    });

    it('ends the budget when its operation has answered: later calls have their own deadline', async () => {
      const { breaker } = breakerWith({ deadlineMs: 1000 });
      let later!: Promise<string>;
      await withDatabaseBudget(20, () => {
        later = new Promise((resolve) => setTimeout(resolve, 40)).then(() =>
          breaker.run(() => new Promise<string>((resolve) => setTimeout(resolve, 30, 'answered'))),
        );
      });
      await expect(later).resolves.toBe('answered');
    });
  });
});
