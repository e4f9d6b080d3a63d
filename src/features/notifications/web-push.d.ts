// The part of web-push 3.6 (CommonJS, no types of its own) that push.sender.ts uses.
declare module 'web-push' {
  interface PushSubscriptionKeys {
    endpoint: string;
    keys: { p256dh: string; auth: string };
  }
  interface RequestOptions {
    vapidDetails: { subject: string; publicKey: string; privateKey: string };
    /** Seconds the push service keeps an undelivered message. */
    TTL?: number;
    contentEncoding?: 'aesgcm' | 'aes128gcm';
    urgency?: 'very-low' | 'low' | 'normal' | 'high';
    topic?: string;
  }
  interface RequestDetails {
    method: string;
    headers: Record<string, string | number>;
    body: Buffer | null;
    endpoint: string;
  }
  const webPush: {
    /** Encrypts the payload to the subscription's keys and signs the VAPID header: everything but the POST. */
    generateRequestDetails(
      subscription: PushSubscriptionKeys,
      payload: string | Buffer | null,
      options: RequestOptions,
    ): RequestDetails;
  };
  export default webPush;
}
