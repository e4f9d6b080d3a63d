import type { Logger } from '../logger.js';

/**
 * The lifecycle events of one instance. Whoever cares subscribes (presence,
 * typing, the room hub, the rooms service); whoever causes one emits it. No
 * part is handed another's callback.
 */
export interface HookEvents {
  /** A socket authenticated. `first`: the user had no other socket on this instance. */
  connected: { userId: string; first: boolean };
  /** An authenticated socket closed. `last`: the user has no socket left on this instance. */
  disconnected: { userId: string; last: boolean };
  /**
   * A member left a room through this instance. Emitted before the mutation
   * returns, so this instance's streams of theirs end before the client can
   * do anything next (other instances learn it from the room's LEFT event).
   */
  memberLeft: { roomId: string; userId: string };
  /** A user came online (first socket anywhere) or went offline; exactly one instance emits each transition. */
  presenceChanged: { userId: string; online: boolean };
  /**
   * The instance begins to stop, before any socket is closed. Timers end
   * here. `graceful` false: it ends like a crash would (fault tests), leaving
   * its claims in Redis to lapse.
   */
  stopping: { graceful: boolean };
}

export type HookName = keyof HookEvents;
type Listener<K extends HookName> = (event: HookEvents[K]) => void;

export class Hooks {
  private readonly listeners: { [K in HookName]: Array<Listener<K>> } = {
    connected: [],
    disconnected: [],
    memberLeft: [],
    presenceChanged: [],
    stopping: [],
  };

  constructor(private readonly logger: Logger) {}

  on<K extends HookName>(name: K, listener: Listener<K>): void {
    this.listeners[name].push(listener);
  }

  /**
   * Runs the listeners synchronously, in the order they subscribed. One that
   * throws is logged and the others still run: a hook never fails its emitter.
   */
  emit<K extends HookName>(name: K, event: HookEvents[K]): void {
    for (const listener of this.listeners[name]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn('a lifecycle hook failed', { hook: name, error: error as Error });
      }
    }
  }
}
