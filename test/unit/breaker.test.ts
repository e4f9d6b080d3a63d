import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/db/breaker.js';

const unreachable = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const never = () => new Promise<never>(() => {});

/** A breaker whose probe answers as `service.up` says. */
function breakerWith(options: { threshold?: number; deadlineMs?: number } = {}) {
  const service = { up: false, probes: 0 };
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    service: 'database',
    deadlineMs: options.deadlineMs ?? 1000,
    threshold: options.threshold ?? 3,
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
});
