import amqp from 'amqplib';
import { brokerNames } from '../../src/infra/broker-messages.js';
import { waitFor } from './wait.js';

const LEVELS = 20;

async function withCascade<T>(app: { config: { amqpUrl: string; amqpPrefix: string } }, use: (channel: amqp.Channel, queues: string[]) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(app.config.amqpUrl);
  try {
    const channel = await connection.createChannel();
    const names = brokerNames(app.config.amqpPrefix);
    return await use(channel, Array.from({ length: LEVELS }, (_, level) => names.delayLevelQueue(level)));
  } finally {
    await connection.close();
  }
}

/** Timer messages waiting anywhere in the service's delay cascade. */
export function timersInCascade(app: { config: { amqpUrl: string; amqpPrefix: string } }): Promise<number> {
  return withCascade(app, async (channel, queues) => {
    let total = 0;
    for (const queue of queues) total += (await channel.checkQueue(queue)).messageCount;
    return total;
  });
}

/** Loses every timer of the service: waits until the cascade holds one, then purges every level. */
export async function purgeCascadeOnceItHoldsATimer(app: { config: { amqpUrl: string; amqpPrefix: string } }): Promise<void> {
  await waitFor('the timer to be in the cascade', async () => (await timersInCascade(app)) > 0);
  await withCascade(app, async (channel, queues) => {
    for (const queue of queues) await channel.purgeQueue(queue);
  });
}
