import type { App } from './server.js';

/** What Apollo Client's HttpLink asks for a subscription (the multipart protocol). */
const MULTIPART_ACCEPT = 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0, application/json';

/**
 * A subscription over HTTP, read as it streams: Server-Sent Events (yoga's)
 * or Apollo's multipart protocol. It collects each result's JSON and notes
 * how the stream ended: `completed` when the server said so (SSE's
 * `complete` event, multipart's closing delimiter), `ended` when the
 * response body finished.
 */
export class HttpStream {
  readonly results: Array<{ data?: any; errors?: Array<{ extensions?: { code?: string } }> }> = [];
  completed = false;
  ended = false;
  private buffered = '';
  private waiters: Array<() => void> = [];
  private readonly controller = new AbortController();

  private constructor(readonly kind: 'sse' | 'multipart') {}

  static async open(
    app: App,
    token: string,
    kind: 'sse' | 'multipart',
    /** The document's text, or the parameters that name one instead (`documentId`, `extensions`). */
    document: string | Record<string, unknown>,
    variables: Record<string, unknown>,
  ): Promise<HttpStream> {
    const stream = new HttpStream(kind);
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: kind === 'sse' ? 'text/event-stream' : MULTIPART_ACCEPT,
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ ...(typeof document === 'string' ? { query: document } : document), variables }),
      signal: stream.controller.signal,
    });
    void stream.read(response);
    return stream;
  }

  private async read(response: Response): Promise<void> {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.buffered += decoder.decode(value, { stream: true });
        if (this.kind === 'sse') this.sseEvents();
        else this.multipartParts();
        this.wake();
      }
    } catch {
      // Aborted by close().
    }
    this.ended = true;
    this.wake();
  }

  private sseEvents(): void {
    let end: number;
    while ((end = this.buffered.indexOf('\n\n')) >= 0) {
      const event = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 2);
      if (/^event: complete$/m.test(event)) this.completed = true;
      const data = /^data: (.+)$/m.exec(event)?.[1];
      if (data && !/^event: complete$/m.test(event)) this.results.push(JSON.parse(data) as HttpStream['results'][number]);
    }
  }

  private multipartParts(): void {
    let end: number;
    while ((end = this.buffered.indexOf('\r\n--graphql', 1)) >= 0) {
      const part = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 2);
      const body = part.slice(part.indexOf('\r\n\r\n') + 4).trim();
      if (!body) continue;
      const json = JSON.parse(body) as { payload?: HttpStream['results'][number] };
      // Heartbeats are empty objects; events come as { payload }.
      if (json.payload) this.results.push(json.payload);
    }
    if (this.buffered.startsWith('--graphql--')) this.completed = true;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves once `done` holds, re-checked on every chunk; fails after timeoutMs with what arrived. */
  until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.kind}: timed out waiting for ${what}: ${JSON.stringify(this.results.slice(-3))}`)),
        timeoutMs,
      );
      const check = () => {
        if (!done()) return void this.waiters.push(check);
        clearTimeout(timer);
        resolve();
      };
      check();
    });
  }

  close(): void {
    this.controller.abort();
  }
}
