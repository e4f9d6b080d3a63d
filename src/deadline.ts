/** A backing service (Postgres, Redis) did not answer in time: callers map it to SERVICE_UNAVAILABLE. */
export class DeadlineError extends Error {
  constructor(
    readonly service: string,
    ms: number,
  ) {
    super(`${service} did not answer within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/** Races a promise against a timer; the timer never keeps the process alive. */
export async function withDeadline<T>(work: PromiseLike<T>, ms: number, service: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(service, ms)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
