/** A socket whose writes can be held until the end of the turn. */
export interface Corkable {
  hold(): void;
  release(): void;
}

/**
 * Frames written to a socket in one turn of the event loop go out in one
 * write (the socket is corked until the turn ends): when a room is busy, a
 * socket gets several events per write instead of a syscall per event.
 */
export class WriteBatcher {
  private readonly held: Corkable[] = [];
  private scheduled = false;

  hold(socket: Corkable): void {
    socket.hold();
    this.held.push(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    for (const socket of this.held.splice(0)) socket.release();
  }
}
