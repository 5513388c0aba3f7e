import type { AppendWatch } from './types.js';

/**
 * The appends announced to one reader, collapsed into one pending hint: announcements made while the reader is busy
 * wake its next wait at once. A store announces; the reader waits with `next()`.
 */
export class AppendSignal implements AppendWatch {
  private announced = false;
  private closed = false;
  private waiting: { promise: Promise<void>; release: () => void } | null = null;

  constructor(private readonly onClose: () => void | Promise<void> = () => undefined) {}

  announce(): void {
    if (this.waiting) this.waiting.release();
    else this.announced = true;
  }

  next(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.announced) {
      this.announced = false;
      return Promise.resolve();
    }
    if (this.waiting) return this.waiting.promise;
    return this.wait(this.longestWaitMs());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiting?.release();
    await this.onClose();
  }

  /** How long a wait may last without an announcement; null: until one comes. */
  protected longestWaitMs(): number | null {
    return null;
  }

  private wait(longestMs: number | null): Promise<void> {
    let release = () => {};
    const promise = new Promise<void>((resolve) => {
      const timer = longestMs === null ? null : setTimeout(() => release(), longestMs).unref();
      release = () => {
        if (timer) clearTimeout(timer);
        if (this.waiting?.promise === promise) this.waiting = null;
        resolve();
      };
    });
    this.waiting = { promise, release };
    return promise;
  }
}
