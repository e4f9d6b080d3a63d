import type { AddressInfo } from 'node:net';
import { PushApiModel } from 'web-push-testing/src/PushApiModel.js';
import WebPushTestingServer from 'web-push-testing/src/server.js';

/** A browser's subscription as a push service hands it out. */
export interface TestPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  clientHash: string;
}

/**
 * A local push service (web-push-testing) on loopback, over its own HTTP
 * API: it makes subscriptions for a VAPID key (as a browser's
 * PushManager.subscribe would), checks each push's VAPID signature and
 * decrypts its payload, keeps what it received, and can expire a
 * subscription (then answers 410). It serves http: the server under test
 * allows that on loopback with PUSH_ALLOW_LOOPBACK_HTTP. One per process (the
 * package keeps its model in a module variable).
 */
export async function startPushService() {
  const model = new PushApiModel();
  const service = new WebPushTestingServer(model, 0);
  service.setRequestHandlers();
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const listening = service._app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  model.notifyUrl = `${origin}/notify/`;
  const post = async (path: string, body: unknown = {}) => {
    const response = await fetch(`${origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`push service ${path}: ${response.status} ${text}`);
    return text === '' || text === 'OK' ? null : (JSON.parse(text) as { data: unknown });
  };
  return {
    /** A new subscription for the server's VAPID public key. */
    async subscribe(applicationServerKey: string): Promise<TestPushSubscription> {
      return (await post('/subscribe', { applicationServerKey }))!.data as TestPushSubscription;
    },
    /** The payloads it received for the subscription, decrypted, in arrival order. */
    async received(subscription: TestPushSubscription): Promise<string[]> {
      const answer = (await post('/get-notifications', { clientHash: subscription.clientHash }))!.data as { messages: string[] };
      return answer.messages;
    },
    /** From now on it answers pushes to the subscription with 410 Gone. */
    async expire(subscription: TestPushSubscription): Promise<void> {
      await post(`/expire-subscription/${subscription.clientHash}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type PushService = Awaited<ReturnType<typeof startPushService>>;
