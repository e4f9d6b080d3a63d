import type { EnvReader } from '../env-reader.js';

/** Config.webhooks: where events are POSTed and how (the README's "Webhooks"). */
export interface WebhooksConfig {
  /** `WEBHOOK_URLS`, comma-separated http(s) URLs; empty: no outbox rows are written at all. @default [] */
  readonly urls: readonly string[];
  /** `WEBHOOK_SECRET`, Standard Webhooks' `whsec_<base64>`: signs every request (required with URLs). */
  readonly secret: string | null;
  /** `WEBHOOK_SECRET_PREVIOUS`: also signs while receivers move to the new secret (two signatures). @default null */
  readonly previousSecret: string | null;
  /** `WEBHOOK_ALLOW_PRIVATE`: deliver to private, loopback and link-local addresses too. @default false */
  readonly allowPrivate: boolean;
  /** `WEBHOOK_WORKER`: this instance claims and delivers (false: it only records). @default true */
  readonly worker: boolean;
  /** `WEBHOOK_POLL_MS`: how often an idle worker looks for due deliveries. @default 1000 */
  readonly pollMs: number;
  /** `WEBHOOK_RETRY_BASE_MS`: the first retry's delay; later ones are 6, 24, 120, 360, 720 times it. @default 5000 */
  readonly retryBaseMs: number;
  /** `WEBHOOK_RETRY_FOR_MS`: how long after the event retries go on before it is dead-lettered. @default 86400000 (24 h) */
  readonly retryForMs: number;
  /** `WEBHOOK_TIMEOUT_MS`: one attempt's budget, connection to status line; a claim's lease is three times it. @default 5000 */
  readonly timeoutMs: number;
}

/** Standard Webhooks' secrets: `whsec_` and 24 to 64 random bytes in base64. */
const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

function secretProblem(name: string, secret: string): string | null {
  if (!SECRET.test(secret)) return `${name} must be whsec_ followed by base64 (Standard Webhooks)`;
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
  return bytes < 24 || bytes > 64 ? `${name} must hold 24 to 64 bytes, got ${bytes}` : null;
}

export function parseWebhooksConfig({ value, integerAtLeast, problems }: EnvReader): { webhooks: WebhooksConfig } {
  const urls = (value('WEBHOOK_URLS') ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  for (const url of urls) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      // reported below
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.username || parsed.password) {
      problems.push(`WEBHOOK_URLS holds "${url}", which is not an http(s) URL without credentials`);
    }
  }
  const secret = value('WEBHOOK_SECRET') ?? null;
  const previousSecret = value('WEBHOOK_SECRET_PREVIOUS') ?? null;
  if (urls.length > 0 && secret === null) problems.push('WEBHOOK_SECRET is required with WEBHOOK_URLS');
  for (const [name, text] of [
    ['WEBHOOK_SECRET', secret],
    ['WEBHOOK_SECRET_PREVIOUS', previousSecret],
  ] as const) {
    const problem = text === null ? null : secretProblem(name, text);
    if (problem) problems.push(problem);
  }
  const flag = (name: string, fallback: boolean) => {
    const text = value(name) ?? String(fallback);
    if (text !== 'true' && text !== 'false') problems.push(`${name} must be true or false, got "${text}"`);
    return text === 'true';
  };
  const timeoutMs = integerAtLeast('WEBHOOK_TIMEOUT_MS', 5000, 100);
  if (timeoutMs > 30_000) problems.push('WEBHOOK_TIMEOUT_MS must be at most 30000');
  return {
    webhooks: Object.freeze({
      urls: Object.freeze(urls),
      secret,
      previousSecret,
      allowPrivate: flag('WEBHOOK_ALLOW_PRIVATE', false),
      worker: flag('WEBHOOK_WORKER', true),
      pollMs: integerAtLeast('WEBHOOK_POLL_MS', 1000, 10),
      retryBaseMs: integerAtLeast('WEBHOOK_RETRY_BASE_MS', 5000, 1),
      retryForMs: integerAtLeast('WEBHOOK_RETRY_FOR_MS', 86_400_000, 1),
      timeoutMs,
    }),
  };
}
