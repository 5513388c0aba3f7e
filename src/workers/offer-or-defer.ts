import type { Logger } from '../infra/logger.js';
import { pause } from '../infra/pause.js';
import type { ReceivedMessage } from '../infra/queue-consumer.js';
import { DELIVERY_DEFERRAL, type FairDispatcher } from './fair-dispatcher.js';

export interface OfferedWork {
  team: string;
  /** Does the work and settles the message. */
  run: () => Promise<void>;
  /** Sends the work round the delay cascade, to come back after `delayMs`. */
  defer: (delayMs: number) => Promise<void>;
  /** What the log says about the work. */
  context: Record<string, unknown>;
}

/**
 * Gives a message's work to its team's line. When the line is full the work goes round the delay cascade for about
 * as long as the line takes to move (within DELIVERY_DEFERRAL) and the message is acked; when that fails, the message goes
 * back to the queue after `retryMs`.
 */
export async function offerOrDefer(
  dispatcher: FairDispatcher,
  message: ReceivedMessage,
  work: OfferedWork,
  options: { retryMs: number; logger: Logger },
): Promise<void> {
  const turn = dispatcher.offer(work.team, work.run);
  if (turn !== false) return turn;
  try {
    const delayMs = dispatcher.deferralMs(work.team, DELIVERY_DEFERRAL);
    await work.defer(delayMs);
    options.logger.debug({ ...work.context, delayMs }, "the team's line is full; work deferred");
    message.ack();
  } catch (error) {
    options.logger.warn({ err: error, ...work.context }, 'could not defer work; returning it to the queue');
    if (await pause(options.retryMs, message.closed)) message.nack(true);
  }
}
