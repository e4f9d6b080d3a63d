import type { PGlite } from '@electric-sql/pglite';
import type { Sql } from 'postgres';
import type { CircuitBreaker } from './breaker.js';

/**
 * The drivers as drizzle sees them, with every call going through the
 * breaker (its deadline, and a fast refusal while the database is out).
 * Wrapping the driver rather than the stores means nothing can forget it:
 * query builders, prepared statements (the send path's insert and history
 * windows), raw SQL and transactions all end in these few methods. A
 * transaction is one call: its statements run on the connection the
 * driver reserved for it, and its deadline covers them all.
 */

/**
 * postgres.js: drizzle calls `unsafe(text, params, options)` (awaited, or
 * `.values()` then awaited) and `begin(fn)`. Its queries are lazy, sent
 * when first awaited: a refused call never reaches the pool.
 */
export function guardPostgres(sql: Sql, breaker: CircuitBreaker): Sql {
  const unsafe = (...args: Parameters<Sql['unsafe']>) => new GuardedQuery(sql.unsafe(...args), breaker);
  const begin = (...args: unknown[]) => breaker.run(() => (sql.begin as (...a: unknown[]) => Promise<unknown>)(...args));
  return new Proxy(sql, {
    get: (target, key, receiver) =>
      key === 'unsafe' ? unsafe : key === 'begin' ? begin : (Reflect.get(target, key, receiver) as unknown),
    // sql`...` as a tagged template: a query too (a helper such as sql(identifier) is not a promise, and passes).
    apply: (target, self, args) => {
      const result = Reflect.apply(target, self, args) as unknown;
      return result instanceof Promise ? new GuardedQuery(result as unknown as PendingQuery, breaker) : result;
    },
  });
}

type PendingQuery = PromiseLike<unknown> & { values(): unknown };

/** A postgres.js query that runs through the breaker when awaited; `values()` as postgres.js's. */
class GuardedQuery implements PromiseLike<unknown> {
  constructor(
    private readonly query: PendingQuery,
    private readonly breaker: CircuitBreaker,
  ) {}

  values(): this {
    this.query.values();
    return this;
  }

  then<A = unknown, B = never>(
    onfulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.breaker.run(() => this.query).then(onfulfilled, onrejected);
  }
}

/** PGlite: `query`, `exec`, `sql` and `transaction`; everything else (close, ...) as it is. */
export function guardPglite(client: PGlite, breaker: CircuitBreaker): PGlite {
  const guarded = new Set<PropertyKey>(['query', 'exec', 'sql', 'transaction']);
  return new Proxy(client, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => PromiseLike<unknown>;
      // Bound to the real instance: PGlite keeps private state the proxy cannot reach.
      if (!guarded.has(key)) return method.bind(target);
      return (...args: unknown[]) => breaker.run(() => method.apply(target, args));
    },
  });
}
