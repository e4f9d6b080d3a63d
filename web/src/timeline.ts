import type { MessageFieldsFragment } from '../../client/index.js';

export type Message = MessageFieldsFragment;

/** A page of history as `messages(last:, before:)` answers it. */
export interface Page {
  messages: Message[];
  /** pageInfo.hasPreviousPage: there is history older than this page. */
  hasPreviousPage: boolean;
}

/**
 * One room's messages as the page shows them: every message once, in seq
 * order, whether it came from a history page or live. Older pages are loaded
 * by cursor until the room's start is reached.
 */
export class Timeline {
  private readonly bySeq = new Map<number, Message>();
  private sorted: Message[] | null = [];
  /** A page said there is nothing older (or the oldest message is seq 1). */
  private startReached = false;

  /** The first page, the newest messages. An empty room's start is not taken as reached: a message may have landed before the subscription did. */
  addNewest(page: Page): void {
    this.addAll(page.messages);
    if (page.messages.length > 0 && !page.hasPreviousPage) this.startReached = true;
  }

  /** A page older than what is held (`before` the oldest cursor). */
  addOlder(page: Page): void {
    this.addAll(page.messages);
    if (!page.hasPreviousPage) this.startReached = true;
  }

  /** Live messages, and edits, deletions, reactions, thread summaries or pins (the same seq replaces what is held). Returns whether it changed anything. */
  add(message: Message): boolean {
    const held = this.bySeq.get(message.seq);
    if (held && sameContent(held, message)) return false;
    this.bySeq.set(message.seq, message);
    this.sorted = null;
    return true;
  }

  /** Replaces a message already held (MessageChanged); one not held yet is left for its page. */
  update(message: Message): boolean {
    return this.bySeq.has(message.seq) ? this.add(message) : false;
  }

  list(): readonly Message[] {
    return (this.sorted ??= [...this.bySeq.values()].sort((a, b) => a.seq - b.seq));
  }

  get oldest(): Message | undefined {
    return this.list()[0];
  }

  get newest(): Message | undefined {
    return this.list().at(-1);
  }

  /** The message at this seq, if held. */
  get(seq: number): Message | undefined {
    return this.bySeq.get(seq);
  }

  /** The message with this id, if held. */
  byId(id: string): Message | undefined {
    return this.list().find((m) => m.id === id);
  }

  /** Whether scrolling back can load more: the start is not reached and the oldest held is not seq 1. */
  get hasOlder(): boolean {
    const oldest = this.oldest;
    return !this.startReached && (oldest === undefined ? false : oldest.seq > 1);
  }

  private addAll(messages: Message[]): void {
    for (const message of messages) this.add(message);
  }
}

/** Whether two renderings of one message show the same: body, edit, deletion, reactions, what it quotes, its thread, pin and files. */
function sameContent(a: Message, b: Message): boolean {
  return (
    a.body === b.body &&
    a.editedAt === b.editedAt &&
    a.deletedAt === b.deletedAt &&
    a.pinnedAt === b.pinnedAt &&
    a.mentionsViewer === b.mentionsViewer &&
    JSON.stringify(a.reactions) === JSON.stringify(b.reactions) &&
    JSON.stringify(a.replyTo) === JSON.stringify(b.replyTo) &&
    JSON.stringify(a.thread) === JSON.stringify(b.thread) &&
    sameFiles(a.attachments, b.attachments)
  );
}

/**
 * The same files, each with or without its thumbnail as before (MessageChanged
 * THUMBNAIL). Their URLs are signed anew in each answer, and are not compared:
 * a new rendering would load the same images again.
 */
function sameFiles(a: Message['attachments'], b: Message['attachments']): boolean {
  return (
    a.length === b.length && a.every((x, i) => x.id === b[i]!.id && (x.thumbnailUrl === null) === (b[i]!.thumbnailUrl === null))
  );
}
