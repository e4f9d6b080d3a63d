import type { MessageRow } from '../db/schema.js';
import type { FanoutGroup, GroupMember, Renderer, ViewerRef } from './fanout.js';
import type { RoomActivity } from './feed.js';

/** How a member's stream ended: the client is told `complete`, an error, or its socket is told to come back later. */
export type EndReason = 'complete' | 'error' | 'overload';

/**
 * What a transport gives a source when it binds it, with a renderer: where
 * renderings go, and how it hears of the end. The renderer is the group's
 * once bound (the first member's of its key), so a binding need not keep one.
 */
export interface Binding<Out> {
  /** Members with the same key in one room share renderings: the selection, and the field it is on. */
  readonly key: string;
  write(out: Out): void;
  end(reason: EndReason): void;
}

/** What a member needs of its feed, handed over at construction (one per feed, shared by its members). */
export interface MemberFeed<E> {
  /** The feed's group for this key, made on first use with this renderer. */
  group<Out>(key: string, renderer: Renderer<E, Out>): FanoutGroup<E, Out>;
  /** Lets go of the member (it ended). */
  remove(member: Member<E, unknown>): void;
}

/** A message feed, as its members see it. */
export interface MessageFeed extends MemberFeed<MessageRow> {
  /** The newest seq the feed has emitted. */
  readonly head: number;
  /** Messages of the room after a seq, oldest first, a page at a time. */
  replay(afterSeq: number): Promise<MessageRow[]>;
  readonly pageSize: number;
}

export abstract class Member<E, Out> implements GroupMember<E, Out> {
  protected binding: Binding<Out> | null = null;
  protected group: FanoutGroup<E, Out> | null = null;
  protected ended = false;

  constructor(
    readonly viewer: ViewerRef,
    protected readonly feed: MemberFeed<E>,
  ) {}

  get userId(): string {
    return this.viewer.userId;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  abstract deliver(event: E, out: Out): boolean;

  /** Joins the group of its key; from now on renderings reach `binding.write`. */
  bind(binding: Binding<Out>, renderer: Renderer<E, Out>): void {
    if (this.ended) return binding.end('complete');
    this.binding = binding;
    this.group = this.feed.group(binding.key, renderer);
    this.group.members.add(this);
  }

  fail(reason: 'error' | 'overload'): void {
    this.end(reason);
  }

  /** Ends the stream once; the binding (if any) hears why. */
  end(reason: EndReason = 'complete'): void {
    if (this.ended) return;
    this.ended = true;
    this.group?.members.delete(this);
    this.feed.remove(this);
    this.binding?.end(reason);
    this.binding = null;
  }
}

/**
 * One subscriber's place in a room's message feed. It is registered before
 * anything is read (so a leave at any moment ends it), given its start
 * position once the feed knows its head, and bound to a transport later.
 * Whatever it has not delivered by then (everything after `after`, or what
 * was emitted while it was being set up) it reads from the database, a page
 * at a time, rendered for itself; then it takes the group's shared
 * renderings, skipping by seq what it already has. It holds no backlog.
 */
export class MessageMember<Out = unknown> extends Member<MessageRow, Out> {
  /** The seq of the newest message it delivered (or started after). */
  position = 0;
  private live = false;

  constructor(
    viewer: ViewerRef,
    protected override readonly feed: MessageFeed,
  ) {
    super(viewer, feed);
  }

  start(afterSeq: number | null): void {
    this.position = afterSeq ?? this.feed.head;
  }

  override bind(binding: Binding<Out>, renderer: Renderer<MessageRow, Out>): void {
    super.bind(binding, renderer);
    if (!this.ended) void this.catchUp();
  }

  deliver(message: MessageRow, out: Out): boolean {
    if (!this.live || this.ended || message.seq <= this.position) return false;
    this.position = message.seq;
    this.binding!.write(out);
    return true;
  }

  /** Reads and delivers what the feed emitted before this member went live, then goes live. */
  private async catchUp(): Promise<void> {
    const { feed } = this;
    try {
      let idle = 0;
      while (!this.ended && this.position < feed.head) {
        const rows = await feed.replay(this.position);
        for (const row of rows) {
          if (this.ended || row.seq <= this.position) continue;
          const { out } = await this.group!.renderer.render(row, this.viewer);
          if (this.ended) return;
          this.position = row.seq;
          this.binding!.write(out);
        }
        // The feed emits committed seqs only, so the database has them; a few empty reads mean something else is wrong.
        if (rows.length === 0 && ++idle >= 3)
          throw new Error(`no rows after seq ${this.position} below the feed head ${feed.head}`);
      }
      this.live = true;
    } catch {
      this.end('error');
    }
  }
}

/** One subscriber of a room's other events (edits, members, typing, receipts), from the moment it is bound. */
export class ActivityMember<Out = unknown> extends Member<RoomActivity, Out> {
  deliver(_event: RoomActivity, out: Out): boolean {
    if (this.ended) return false;
    this.binding!.write(out);
    return true;
  }
}
