/**
 * A push-driven async iterator: producers push, one consumer (graphql-js's
 * subscription loop) pulls. end() resolves a waiting pull as done and drops
 * what was queued: once a stream ends, nothing more reaches the client.
 * fail() ends it with an error the consumer sees on its next pull.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: Error) => void } | null = null;
  private ended = false;
  private failure: { error: Error } | null = null;

  constructor(private readonly onEnd: () => void = () => {}) {}

  /** Values pushed and not pulled yet. */
  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.ended) return;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.items.length = 0;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve({ value: undefined, done: true });
    }
    this.onEnd();
  }

  fail(error: Error): void {
    if (this.ended) return;
    this.failure = { error };
    const waiter = this.waiter;
    this.waiter = null;
    this.end();
    if (waiter) {
      this.failure = null;
      waiter.reject(error);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.failure) {
      const { error } = this.failure;
      this.failure = null;
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  async return(): Promise<IteratorResult<T>> {
    this.end();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
