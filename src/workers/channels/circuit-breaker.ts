import type { NotificationOutcome } from '../../domain/alert/commands.js';

export interface CircuitBreakerOptions {
  /** Consecutive sends to one destination that it never answered, which open its circuit. */
  failuresToOpen: number;
  /** How long an open circuit refuses sends before letting one trial through. */
  openMs: number;
  clock?: () => number;
  /** Destinations remembered at once; the least recently used are forgotten first. */
  maxDestinations?: number;
}

interface DestinationState {
  consecutiveFailures: number;
  openUntil: number;
  /** A trial send is on its way after the circuit reopened for one. */
  trialInFlight: boolean;
}

/**
 * Per-destination circuit breaker: a destination that keeps not answering (a URL that never answers holds a sender
 * for the whole timeout on every attempt) is refused at once for a while, so it costs no sender time and other
 * destinations' pages are not held up behind it. A destination that answers, even with an error, is up: its
 * answers cost little, and the node's retries deal with them. A refused send is an ordinary failed attempt, retried on
 * the node's backoff; after the open period one trial send decides whether the circuit closes again.
 */
export class CircuitBreaker {
  private readonly destinations = new Map<string, DestinationState>();
  private readonly clock: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async send(destination: string, attempt: () => Promise<NotificationOutcome>): Promise<NotificationOutcome> {
    const state = this.stateOf(destination);
    const now = this.clock();
    if (state.openUntil > now || (state.openUntil > 0 && state.trialInFlight)) {
      return {
        delivered: false,
        error: `circuit open: ${destination} did not answer ${state.consecutiveFailures} times in a row`,
        permanent: false,
      };
    }
    const trial = state.openUntil > 0;
    if (trial) state.trialInFlight = true;
    try {
      const outcome = await attempt();
      this.record(state, outcome);
      return outcome;
    } finally {
      if (trial) state.trialInFlight = false;
    }
  }

  isOpen(destination: string): boolean {
    return (this.destinations.get(destination)?.openUntil ?? 0) > this.clock();
  }

  private record(state: DestinationState, outcome: NotificationOutcome): void {
    if (outcome.delivered || !outcome.unanswered) {
      state.consecutiveFailures = 0;
      state.openUntil = 0;
      return;
    }
    state.consecutiveFailures++;
    if (state.consecutiveFailures >= this.options.failuresToOpen) state.openUntil = this.clock() + this.options.openMs;
  }

  private stateOf(destination: string): DestinationState {
    let state = this.destinations.get(destination);
    if (state) {
      this.destinations.delete(destination);
    } else {
      state = { consecutiveFailures: 0, openUntil: 0, trialInFlight: false };
    }
    this.destinations.set(destination, state);
    if (this.destinations.size > (this.options.maxDestinations ?? 10_000)) {
      this.destinations.delete(this.destinations.keys().next().value!);
    }
    return state;
  }
}
