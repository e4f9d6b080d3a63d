import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One POST the receiver took, with what its signature check said. */
export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body when every verifier accepted the signature; null when one refused it. */
  payload: WebhookBody | null;
}

export interface WebhookBody {
  type: string;
  timestamp: string;
  data: { roomId: string; seq?: number; [key: string]: any };
}

/**
 * A webhook receiver on 127.0.0.1 (port 0) that verifies each request with
 * `standardwebhooks` against every given secret, as an operator's backend
 * would, and answers what `respond` says (200 unless told).
 */
export async function startWebhookReceiver(secrets: string[]) {
  const verifiers = secrets.map((secret) => new Webhook(secret));
  const received: ReceivedWebhook[] = [];
  /** A status to answer, or 'hold': no answer at all (the connection stays open until its client goes). */
  let respond: (request: ReceivedWebhook, earlier: ReceivedWebhook[]) => number | 'hold' = () => 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let payload: WebhookBody | null = null;
      try {
        for (const verifier of verifiers) payload = verifier.verify(body, req.headers as Record<string, string>) as WebhookBody;
      } catch {
        payload = null;
      }
      const request = { path: req.url ?? '/', headers: req.headers, body, payload };
      const earlier = received.filter((r) => r.path === request.path);
      received.push(request);
      const answer = respond(request, earlier);
      if (answer !== 'hold') res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    /** What the receiver took at this path, in arrival order. */
    at: (path: string) => received.filter((r) => r.path === path),
    respondWith(rule: typeof respond) {
      respond = rule;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
