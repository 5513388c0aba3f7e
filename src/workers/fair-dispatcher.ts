/** How long work refused because its team's line is full stays away: bounds for FairDispatcher.deferralMs. */
export const DELIVERY_DEFERRAL = { minMs: 1000, maxMs: 15_000 } as const;

/**
 * Shares a fixed number of senders among teams: each team's work waits in its own line, a free sender takes the
 * next team in turn, and no team may hold more than `perTeamInFlight` senders, so the rest stay free for the others
 * even while one team's targets hang until their timeout. A team whose line is full is refused (the caller sends
 * the work round again later) rather than held, so one team's backlog never fills what the broker will hand out.
 */
export class FairDispatcher {
  private readonly lines = new Map<string, (() => Promise<void>)[]>();
  private readonly inFlight = new Map<string, number>();
  /** When each team's work now in flight started (at most `perTeamInFlight` entries per team). */
  private readonly startedAt = new Map<string, number[]>();
  /** A team's typical time per piece of work (moving average), kept while the team has work here. */
  private readonly typicalMs = new Map<string, number>();
  /** Teams with work waiting, in the order their turn comes. */
  private readonly turns: string[] = [];
  /** The last two teams to offer work, most recent first, and when: the latest other team is always among them. */
  private recentOffers: { team: string; at: number }[] = [];
  private running = 0;

  constructor(
    private readonly options: {
      /** Senders in all. */
      concurrency: number;
      perTeamInFlight: number;
      /** Work a team may have waiting for a sender before more is refused. */
      perTeamWaiting: number;
      /**
       * Work a team may have waiting while no other team has offered any for `othersActiveMs`: a lone team's burst
       * waits here rather than going round again, and the ordinary line applies as soon as another team shows up.
       */
      perTeamWaitingAlone?: number;
      othersActiveMs?: number;
    },
  ) {}

  /** Runs `work` when a sender is free and its team's turn comes; false (and nothing runs) when the team's line is full. */
  offer(team: string, work: () => Promise<void>): Promise<void> | false {
    const now = Date.now();
    const line = this.lines.get(team) ?? [];
    const limit = this.othersActive(team, now) ? this.options.perTeamWaiting : Math.max(this.options.perTeamWaiting, this.options.perTeamWaitingAlone ?? 0);
    this.recentOffers = [{ team, at: now }, ...this.recentOffers.filter((offer) => offer.team !== team)].slice(0, 2);
    if (line.length >= limit) return false;
    return new Promise<void>((resolve) => {
      line.push(() => work().finally(resolve));
      if (line.length === 1) {
        this.lines.set(team, line);
        this.turns.push(team);
      }
      this.dispatch();
    });
  }

  /** Whether a team other than `team` has offered work within `othersActiveMs`. */
  private othersActive(team: string, now: number): boolean {
    const other = this.recentOffers.find((offer) => offer.team !== team);
    return other !== undefined && other.at >= now - (this.options.othersActiveMs ?? 10_000);
  }

  inFlightOf(team: string): number {
    return this.inFlight.get(team) ?? 0;
  }

  /**
   * About how long new work of `team` would wait for a sender: the turns ahead of it times the team's typical time
   * per piece of work, which is at least as long as its oldest work in flight has been running (a target that hangs
   * shows it before any of its work ends). Zero for a team with nothing here.
   */
  expectedWaitMs(team: string, now = Date.now()): number {
    const oldest = Math.min(...(this.startedAt.get(team) ?? [now]));
    const typical = Math.max(this.typicalMs.get(team) ?? 0, now - oldest);
    const turnsAhead = Math.ceil(((this.lines.get(team)?.length ?? 0) + 1) / this.options.perTeamInFlight);
    return turnsAhead * typical;
  }

  /** How long refused work of `team` should stay away: its expected wait, within the given bounds. */
  deferralMs(team: string, bounds: { minMs: number; maxMs: number }): number {
    return Math.min(bounds.maxMs, Math.max(bounds.minMs, this.expectedWaitMs(team)));
  }

  private dispatch(): void {
    for (let looked = 0; this.running < this.options.concurrency && looked < this.turns.length; ) {
      const team = this.turns.shift()!;
      const line = this.lines.get(team)!;
      if (this.inFlightOf(team) >= this.options.perTeamInFlight) {
        this.turns.push(team);
        looked++;
        continue;
      }
      looked = 0;
      const next = line.shift()!;
      if (line.length > 0) this.turns.push(team);
      else this.lines.delete(team);
      this.running++;
      this.inFlight.set(team, this.inFlightOf(team) + 1);
      const started = Date.now();
      this.startedAt.set(team, [...(this.startedAt.get(team) ?? []), started]);
      void next()
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.finished(team, started);
          this.dispatch();
        });
    }
  }

  private finished(team: string, started: number): void {
    const elapsed = Date.now() - started;
    const previous = this.typicalMs.get(team);
    this.typicalMs.set(team, previous === undefined ? elapsed : 0.8 * previous + 0.2 * elapsed);
    const stillRunning = this.startedAt.get(team)!.filter((at, index, all) => index !== all.indexOf(started));
    const left = this.inFlightOf(team) - 1;
    if (left > 0) {
      this.inFlight.set(team, left);
      this.startedAt.set(team, stillRunning);
      return;
    }
    this.inFlight.delete(team);
    this.startedAt.delete(team);
    if (!this.lines.has(team)) this.typicalMs.delete(team);
  }
}
