import type { MemberChange, UserFieldsFragment } from '../../client/index.js';
import type { Member } from './views.js';

/** Repeat setTyping(true) this often while keys are pressed (the server lets it lapse after 5 s). */
const TYPING_REPEAT_MS = 3000;
/** Say typing stopped after this long without a key. */
const TYPING_IDLE_MS = 4000;
/** Forget a typist whose stop never came (the server sends one at its lapse; this covers a lost socket). */
const TYPING_FORGET_MS = 7000;

/** The open room's members and whether each is online, as the room query and MemberChanged events tell. */
export class Members {
  private readonly byId = new Map<string, Member>();

  constructor(members: readonly Member[] = []) {
    for (const m of members) this.byId.set(m.user.id, { user: m.user, role: m.role, mutedUntil: m.mutedUntil ?? null });
  }

  /** A MemberChanged event. The event carries no role: one already held is kept, a newcomer is a MEMBER. */
  change(user: UserFieldsFragment, change: MemberChange): void {
    if (change === 'LEFT') this.byId.delete(user.id);
    else {
      const held = this.byId.get(user.id);
      this.byId.set(user.id, { role: held?.role ?? 'MEMBER', mutedUntil: held?.mutedUntil ?? null, user });
    }
  }

  get(userId: string): Member | undefined {
    return this.byId.get(userId);
  }

  list(): Member[] {
    return [...this.byId.values()];
  }
}

/** The others typing in the open room. */
export class Typists {
  private readonly held = new Map<string, { username: string; timer: ReturnType<typeof setTimeout> }>();

  /** @param onForget called when a typist is dropped for lack of a stop */
  constructor(private readonly onForget: () => void) {}

  set(user: { id: string; username: string }, typing: boolean): void {
    const held = this.held.get(user.id);
    if (held) clearTimeout(held.timer);
    this.held.delete(user.id);
    if (!typing) return;
    const timer = setTimeout(() => {
      this.held.delete(user.id);
      this.onForget();
    }, TYPING_FORGET_MS);
    this.held.set(user.id, { username: user.username, timer });
  }

  names(): string[] {
    return [...this.held.values()].map((t) => t.username).sort();
  }

  clear(): void {
    for (const t of this.held.values()) clearTimeout(t.timer);
    this.held.clear();
  }
}

/**
 * Tells the server this user is typing in the open room: once on the first
 * key, again while keys keep coming, and that it stopped after a pause (or
 * when the message is sent or the room closed).
 */
export class TypingSignal {
  private sentAt = 0;
  private idle: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly options: {
      /** The open room, null when none is. */
      roomId(): string | null;
      setTyping(roomId: string, typing: boolean): Promise<unknown>;
    },
  ) {}

  typed(): void {
    const roomId = this.options.roomId();
    if (roomId === null) return;
    if (Date.now() - this.sentAt > TYPING_REPEAT_MS) {
      this.sentAt = Date.now();
      this.send(roomId, true);
    }
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), TYPING_IDLE_MS);
  }

  stop(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const roomId = this.options.roomId();
    if (!this.sentAt || roomId === null) return;
    this.sentAt = 0;
    this.send(roomId, false);
  }

  /** A lost signal only leaves the indicator to lapse on the server: nothing to tell the user. */
  private send(roomId: string, typing: boolean): void {
    void this.options.setTyping(roomId, typing).catch(() => {});
  }
}
