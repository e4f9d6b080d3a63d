import { randomUUID } from 'node:crypto';
import type { Viewer } from '../../auth/viewer.js';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { Publisher } from '../../realtime/publisher.js';
import type { TypingState } from '../../realtime/typing-state.js';
import { voiceRefusal } from '../moderation/permissions.js';
import type { RoomsService } from '../rooms/rooms.service.js';

export interface TypingServiceDeps {
  rooms: RoomsService;
  publish: Publisher;
  /** Shared across instances with Redis, this process's own without. */
  state: TypingState;
  logger: Logger;
  /** Typing lapses after this long without a repeat (ms). */
  lapseMs: number;
  /** What mutes are judged by. */
  clock: Clock;
}

interface Held {
  roomId: string;
  userId: string;
  token: string;
  timer: NodeJS.Timeout;
}

/**
 * Typing indicators: ephemeral, never in Postgres. A user is typing in a room
 * while their mark exists (realtime/typing-state.ts). The instance that
 * received the latest setTyping(true) owns the lapse timer: when it fires and
 * its own mark is still the latest, it clears the mark and announces typing
 * false. A repeat anywhere overwrites the mark, so stale timers elsewhere find
 * another token and stay quiet. Transitions only: a repeat while typing
 * announces nothing.
 */
export class TypingService {
  private readonly held = new Map<string, Held>();

  constructor(private readonly deps: TypingServiceDeps) {}

  async set(viewer: Viewer, roomId: string, typing: boolean): Promise<boolean> {
    const { room, membership } = await this.deps.rooms.requireMembership(viewer, roomId);
    // A muted member may not type (MUTED), nor may a MEMBER in a frozen room (ROOM_FROZEN).
    const refusal = voiceRefusal(room, membership, this.deps.clock);
    if (refusal) throw refusal;
    if (typing) await this.start(room.id, viewer.userId);
    else await this.stop(room.id, viewer.userId);
    return true;
  }

  /** The user's last socket on this instance closed: what they were typing here ends now. */
  async userDisconnected(userId: string): Promise<void> {
    const mine = [...this.held.values()].filter((h) => h.userId === userId);
    await Promise.allSettled(mine.map((h) => this.stop(h.roomId, h.userId)));
  }

  /** Shutdown: timers are dropped; marks in Redis lapse by themselves. */
  close(): void {
    for (const held of this.held.values()) clearTimeout(held.timer);
    this.held.clear();
  }

  private async start(roomId: string, userId: string): Promise<void> {
    const key = `${roomId}:${userId}`;
    const token = randomUUID();
    const { state, lapseMs } = this.deps;
    // The mark outlives the owner's lapse timer, which clears it and announces
    // the end; its own expiry only cleans up after an owner that died.
    const wasTyping = await state.mark(roomId, userId, token, lapseMs * 2 + 1000);
    const previous = this.held.get(key);
    if (previous) clearTimeout(previous.timer);
    const timer = setTimeout(() => void this.lapse(key, token), lapseMs);
    timer.unref();
    this.held.set(key, { roomId, userId, token, timer });
    if (!wasTyping) this.deps.publish.room(roomId, { type: 'typing', userId, typing: true });
  }

  private async stop(roomId: string, userId: string): Promise<void> {
    const key = `${roomId}:${userId}`;
    const held = this.held.get(key);
    if (held) clearTimeout(held.timer);
    this.held.delete(key);
    if (await this.deps.state.clear(roomId, userId)) this.deps.publish.room(roomId, { type: 'typing', userId, typing: false });
  }

  private async lapse(key: string, token: string): Promise<void> {
    const held = this.held.get(key);
    if (!held || held.token !== token) return;
    this.held.delete(key);
    try {
      if (await this.deps.state.release(held.roomId, held.userId, token)) {
        this.deps.publish.room(held.roomId, { type: 'typing', userId: held.userId, typing: false });
      }
    } catch (error) {
      this.deps.logger.warn('typing lapse failed', { error: error as Error });
    }
  }
}
