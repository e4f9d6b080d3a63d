import { h } from './dom.js';

/** The contract's longest message body, in code points. */
export const MAX_BODY = 4000;
/** From this many code points on, the composer shows how many are left. */
export const COUNTER_FROM = 3500;

/** Lengths as the contract counts them: Unicode code points, not UTF-16 units. */
export const codePoints = (text: string) => [...text].length;

/** http(s) URLs in running text; what follows up to the next space or quote is part of it until trimmed below. */
const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Characters that usually end the sentence around a URL rather than the URL itself. */
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', "'", '"', ')', ']', '}']);

/**
 * Message text as nodes: text as text, and each http or https URL in it as a
 * link that opens in a new tab without telling the page it came from
 * (`rel="noopener noreferrer"`). Nothing else becomes a link: no other
 * scheme (javascript:, data:), no markup.
 */
export function linkify(text: string): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const link of findLinks(text)) {
    if (link.start > last) nodes.push(document.createTextNode(text.slice(last, link.start)));
    nodes.push(h('a', { href: link.href, target: '_blank', rel: 'noopener noreferrer' }, link.text));
    last = link.end;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

/** The http(s) URLs of a text: where each is, as written and as the link's href. */
export function findLinks(text: string): Array<{ start: number; end: number; text: string; href: string }> {
  const links = [];
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const url = trimTrailing(match[0]);
    const href = safeHref(url);
    if (href) links.push({ start: match.index, end: match.index + url.length, text: url, href });
  }
  return links;
}

/** Drops sentence punctuation from the end, but keeps a `)` that closes a `(` of the URL (Wikipedia's `Foo_(bar)`). */
function trimTrailing(url: string): string {
  let end = url.length;
  while (end > 0 && TRAILING.has(url[end - 1]!)) {
    if (url[end - 1] === ')') {
      const inside = url.slice(0, end);
      if (inside.split('(').length > inside.split(')').length - 1) break;
    }
    end--;
  }
  return url.slice(0, end);
}

/** The URL as the browser parses it, if its scheme is http or https. */
export function safeHref(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The local calendar day of an instant, as a key that sorts. */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** "Today", "Yesterday", or the weekday and date, for a separator above a day's first message. */
export function dayLabel(iso: string, now = new Date()): string {
  const key = dayKey(iso);
  if (key === dayKey(now.toISOString())) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (key === dayKey(yesterday.toISOString())) return 'Yesterday';
  return new Date(iso).toLocaleDateString([], { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

/** The hour and minute shown beside a message. */
export const shortTime = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** The whole date and time, for a title on hover. */
export const fullDate = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: 'full', timeStyle: 'medium' });

/** What a quote, a pin or a search result shows of a message's body: a message of files alone has none. */
export const textOf = (body: string): string => (body === '' ? '(attachment)' : body);

/** At most `max` characters of one line, with an ellipsis when cut: quotes and search results. */
export function excerpt(text: string, max = 80): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : line;
}
