import type { Plugin } from 'graphql-yoga';
import { withDatabaseBudget } from '../db/budget.js';

/**
 * Gives every execution (a query or mutation, a live event's rendering) and
 * every subscription's setup one database budget of `ms` for all its calls
 * (db/budget.ts): an operation answers SERVICE_UNAVAILABLE within about one
 * deadline on a silent database, however many calls it makes. Listed last,
 * so it wraps the executor the other plugins chose.
 */
export function useDatabaseBudget(ms: number): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args) => withDatabaseBudget(ms, () => executeFn(args) as unknown));
    },
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn((args) => withDatabaseBudget(ms, () => subscribeFn(args) as unknown));
    },
  };
}
