import { connect, createServer, type Server, type Socket } from 'node:net';

/** One proxied connection: the app's side and the service's side. */
interface Pair {
  client: Socket;
  upstream: Socket;
  /** Bytes are not forwarded in these directions right now (the sockets are paused, nothing is lost). */
  held: { toService: boolean; toClient: boolean };
  /** Held when the outage began or opened during it: what heal() decides about. */
  stranded: boolean;
}

/** Which bytes a blackhole stops: everything, or only the service's answers (the request arrives, its reply never does). */
export type BlackholeDirection = 'both' | 'replies';

/**
 * A loopback TCP proxy in front of a real service, so a test can cut the
 * service off for real and restore it. Two kinds of outage:
 * - cut(): connections reset, new ones refused (a crashed or restarted service);
 * - blackhole(): nothing closes, but no byte gets through, on open
 *   connections and new ones alike (a network dropping packets, a hung host).
 *   Bytes wait, as TCP would keep retransmitting them: heal() delivers them
 *   late, or (resume: false) leaves the held connections silent for good,
 *   as after a failover, so only connections opened after it work.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  /** Held for good by heal({ resume: false }); stop() ends them. */
  private readonly abandoned = new Set<Pair>();
  private blackholed: BlackholeDirection | null = null;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname, Number(u.port));
  }

  /** The URL with host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async start(port = this.port): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  private accept(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: Pair = { client, upstream, held: { toService: false, toClient: false }, stranded: false };
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    for (const socket of [client, upstream]) socket.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
    if (this.blackholed) this.hold(pair, this.blackholed);
  }

  private hold(pair: Pair, direction: BlackholeDirection): void {
    pair.stranded = true;
    if (direction === 'both' && !pair.held.toService) {
      pair.held.toService = true;
      pair.client.unpipe(pair.upstream);
      pair.client.pause();
    }
    if (!pair.held.toClient) {
      pair.held.toClient = true;
      pair.upstream.unpipe(pair.client);
      pair.upstream.pause();
    }
  }

  private release(pair: Pair): void {
    if (pair.held.toService) pair.client.pipe(pair.upstream);
    if (pair.held.toClient) pair.upstream.pipe(pair.client);
    pair.held = { toService: false, toClient: false };
    pair.stranded = false;
  }

  /** Refuse new connections and reset the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const pair of [...this.pairs]) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listen again on the same port. */
  restore(): Promise<void> {
    return this.start(this.port);
  }

  /** Stop forwarding (`replies`: only the service's answers) without closing anything, until heal(). */
  blackhole(direction: BlackholeDirection = 'both'): void {
    this.blackholed = direction;
    for (const pair of this.pairs) this.hold(pair, direction);
  }

  /**
   * Forward again. By default the connections held meanwhile deliver what
   * waited; with `resume: false` they stay silent (their peers never hear
   * from them again) and only new connections work.
   */
  heal({ resume = true }: { resume?: boolean } = {}): void {
    this.blackholed = null;
    for (const pair of [...this.pairs]) {
      if (!pair.stranded) continue;
      if (resume) {
        this.release(pair);
      } else {
        this.pairs.delete(pair);
        this.abandoned.add(pair);
      }
    }
  }

  /** Close everything, for the end of a test. */
  async stop(): Promise<void> {
    for (const pair of this.abandoned) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.abandoned.clear();
    await this.cut();
  }
}
