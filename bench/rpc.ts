/**
 * Commands between the orchestrator and its children (load generators, the
 * raw baseline server) over the IPC channel of child_process.fork, with the
 * structured-clone serialization so typed arrays of samples travel as they are.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string } | { progress: string };

export type Handlers = Record<string, (args: any) => Promise<unknown>>;

/** Child side: answer the parent's commands; exits when the parent goes away. */
export function serve(handlers: Handlers): void {
  if (!process.send) throw new Error('run me through child_process.fork');
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd];
    const reply = (r: Reply) => process.send?.(r);
    if (!handler) {
      reply({ id: message.id, ok: false, error: `unknown command ${message.cmd}` });
      return;
    }
    handler(message.args).then(
      (result) => reply({ id: message.id, ok: true, result }),
      (error: unknown) =>
        reply({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

/** Child side: a progress line the parent prints. */
export function progress(text: string): void {
  process.send?.({ progress: text });
}

/** Parent side: one forked child running a TypeScript module through tsx. */
export class Child {
  readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private exited = false;

  constructor(
    readonly name: string,
    modulePath: string,
    options: { cwd: string; onProgress?: (text: string) => void; args?: string[] },
  ) {
    this.proc = fork(modulePath, options.args ?? [], {
      cwd: options.cwd,
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (reply: Reply) => {
      if ('progress' in reply) {
        options.onProgress?.(reply.progress);
        return;
      }
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(`${name}: ${reply.error}`));
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Ready once the child answers a ping (tsx has compiled it). */
  async ready(timeoutMs = 30_000): Promise<this> {
    await this.call('ping', {}, timeoutMs);
    return this;
  }

  call<T = any>(cmd: string, args: unknown, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v: T) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, cmd, args } satisfies Request);
    });
  }

  /** SIGTERM, then SIGKILL if it is still there after graceMs. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}
