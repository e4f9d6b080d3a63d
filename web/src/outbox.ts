import type { OutgoingFile } from './attachments.js';
import type { Message } from './timeline.js';

/** What a message says besides its body: a thread to reply in (and whether to the room too), members it mentions. */
export interface OutgoingExtras {
  readonly threadRootId: string | null;
  readonly showInRoom: boolean;
  /** User ids of members, picked in the composer. */
  readonly mentions: readonly string[];
  /** Uploaded files that go with it (attachmentIds). */
  readonly files?: readonly OutgoingFile[];
}

const NO_EXTRAS: OutgoingExtras = { threadRootId: null, showInRoom: false, mentions: [] };

export interface OutgoingMessage extends OutgoingExtras {
  readonly roomId: string;
  readonly body: string;
  /** The message this one replies to. */
  readonly replyTo: Message | null;
  readonly files: readonly OutgoingFile[];
  /** Sent with every attempt: the server stores the message once however many attempts reach it. */
  readonly clientId: string;
  state: 'sending' | 'retrying' | 'failed';
  attempts: number;
  /** Why the last attempt failed, for the page. */
  error: string | null;
}

/** What an attempt's failure means. */
export type Failure = { retry: true; afterMs?: number; reason: string } | { retry: false; reason: string };

export interface OutboxOptions {
  send(message: {
    roomId: string;
    body: string;
    clientId: string;
    replyToId: string | null;
    threadRootId: string | null;
    showInRoom: boolean;
    mentions: string[];
    attachmentIds: string[];
  }): Promise<Message>;
  /** Sorts a failed attempt into one worth repeating (the network, a restart, a rate limit) and one that is final (a refusal). */
  classify(error: unknown): Failure;
  /** Called whenever a message is added, changes state, or leaves the outbox. */
  onChange(): void;
  /** A stored message's answer (the page shows it from here on, in seq order). */
  onSent(message: Message): void;
  newClientId?(): string;
  /** Waits before attempt number `attempt` (1 for the first retry). @default 0.5 s doubling to 8 s */
  backoffMs?(attempt: number): number;
  setTimer?(fn: () => void, ms: number): unknown;
}

/**
 * Messages typed but not yet stored, shown at once (optimistically) under
 * the room's timeline. A room's messages go out one at a time, in the order
 * typed, each with its own clientId, and an attempt that fails for a passing
 * reason is repeated with the same clientId until one gets an answer: a
 * reply lost with the connection can never store the message twice. A
 * refusal (BAD_USER_INPUT, FORBIDDEN…) stops that message, which stays on the
 * page as failed, to retry or discard; the messages after it go on.
 */
export class Outbox {
  private readonly queues = new Map<string, OutgoingMessage[]>();
  private readonly busy = new Set<string>();
  private readonly options: Required<OutboxOptions>;

  constructor(options: OutboxOptions) {
    this.options = {
      newClientId: () => crypto.randomUUID(),
      backoffMs: (attempt) => Math.min(8000, 500 * 2 ** (attempt - 1)),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      ...options,
    };
  }

  /** The room's outgoing messages, oldest first. */
  pending(roomId: string): readonly OutgoingMessage[] {
    return this.queues.get(roomId) ?? [];
  }

  enqueue(roomId: string, body: string, replyTo: Message | null = null, extras: OutgoingExtras = NO_EXTRAS): OutgoingMessage {
    const message: OutgoingMessage = {
      roomId,
      body,
      replyTo,
      threadRootId: extras.threadRootId,
      showInRoom: extras.showInRoom,
      mentions: [...extras.mentions],
      files: [...(extras.files ?? [])],
      clientId: this.options.newClientId(),
      state: 'sending',
      attempts: 0,
      error: null,
    };
    this.queue(roomId).push(message);
    this.options.onChange();
    this.pump(roomId);
    return message;
  }

  /** Tries a failed message again, with its clientId. */
  retry(clientId: string): void {
    for (const [roomId, queue] of this.queues) {
      const message = queue.find((m) => m.clientId === clientId && m.state === 'failed');
      if (!message) continue;
      message.state = 'sending';
      message.error = null;
      this.options.onChange();
      this.pump(roomId);
    }
  }

  discard(clientId: string): void {
    for (const queue of this.queues.values()) {
      const index = queue.findIndex((m) => m.clientId === clientId && m.state === 'failed');
      if (index >= 0) queue.splice(index, 1);
    }
    this.options.onChange();
  }

  /** A message came back (live, or as an answer): its outgoing copy leaves the page. */
  confirm(message: Message): void {
    if (!message.clientId) return;
    const queue = this.queues.get(message.roomId);
    const index = queue?.findIndex((m) => m.clientId === message.clientId) ?? -1;
    if (queue && index >= 0) {
      // Stored, whatever its attempt in flight, a retry waiting or a failure say: it is done.
      queue.splice(index, 1);
      this.options.onChange();
    }
  }

  private queue(roomId: string): OutgoingMessage[] {
    let queue = this.queues.get(roomId);
    if (!queue) this.queues.set(roomId, (queue = []));
    return queue;
  }

  /** Sends the room's first message that is due, then the next. */
  private pump(roomId: string): void {
    if (this.busy.has(roomId)) return;
    const next = this.queue(roomId).find((m) => m.state === 'sending');
    if (!next) return;
    this.busy.add(roomId);
    next.attempts++;
    const input = {
      roomId,
      body: next.body,
      clientId: next.clientId,
      replyToId: next.replyTo?.id ?? null,
      threadRootId: next.threadRootId,
      showInRoom: next.showInRoom,
      mentions: [...next.mentions],
      // The same uploads with the same clientId: a repeat is answered with the message stored first.
      attachmentIds: next.files.map((file) => file.id),
    };
    this.options.send(input).then(
      (stored) => {
        this.busy.delete(roomId);
        this.remove(next);
        this.options.onSent(stored);
        this.options.onChange();
        this.pump(roomId);
      },
      (error: unknown) => {
        this.busy.delete(roomId);
        if (!this.queue(roomId).includes(next)) return this.pump(roomId); // confirmed meanwhile
        const failure = this.options.classify(error);
        next.error = failure.reason;
        if (failure.retry) {
          next.state = 'retrying';
          this.options.onChange();
          // The room waits for this message: the ones typed after it must not overtake it.
          this.busy.add(roomId);
          this.options.setTimer(
            () => {
              this.busy.delete(roomId);
              if (!this.queue(roomId).includes(next)) return this.pump(roomId);
              next.state = 'sending';
              this.options.onChange();
              this.pump(roomId);
            },
            failure.afterMs ?? this.options.backoffMs(next.attempts),
          );
        } else {
          next.state = 'failed';
          this.options.onChange();
          this.pump(roomId);
        }
      },
    );
  }

  private remove(message: OutgoingMessage): void {
    const queue = this.queue(message.roomId);
    const index = queue.indexOf(message);
    if (index >= 0) queue.splice(index, 1);
  }
}
