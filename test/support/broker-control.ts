import { spawnSync } from 'node:child_process';
import { setTimeout as pause } from 'node:timers/promises';
import amqp from 'amqplib';

/** The broker's control tool; the tests that restart the shared broker need it on this machine. */
export const rabbitmqctl = process.env.RABBITMQCTL ?? 'rabbitmqctl';

export const canRestartBroker = spawnSync(rabbitmqctl, ['version'], { stdio: 'ignore' }).status === 0;

/** CI services set CI=true (`.ci/run` does too). */
export const onCi = /^(true|1)$/i.test(process.env.CI ?? '');

/**
 * Whether the tests that restart the broker can run here. On a developer's machine without `rabbitmqctl` they are
 * skipped; on CI a missing `rabbitmqctl` throws, failing the file, so a green CI run means the broker was restarted.
 */
export function brokerRestartsAvailable(): boolean {
  if (canRestartBroker) return true;
  if (onCi) {
    throw new Error(
      `CI=true, but \`${rabbitmqctl} version\` cannot be run here: the tests that restart the broker would be skipped. ` +
        'Install RabbitMQ\'s CLI tools on the CI machine, or point RABBITMQCTL at them.',
    );
  }
  return false;
}

/**
 * Waits until the restarted broker serves what AlertOps declares at start-up (a stream probe, quorum queues): for a
 * few seconds after start_app its stream and quorum coordinators refuse with INTERNAL_ERROR, which a starting
 * service rightly takes for a broken broker.
 */
export async function brokerServing(amqpUrl: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  const probe = `alertops-chaos-probe-${process.pid}`;
  for (;;) {
    try {
      const connection = await amqp.connect(amqpUrl);
      try {
        const channel = await connection.createChannel();
        await channel.assertQueue(`${probe}.stream`, { durable: true, arguments: { 'x-queue-type': 'stream' } });
        await channel.assertQueue(`${probe}.quorum`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        await channel.deleteQueue(`${probe}.stream`);
        await channel.deleteQueue(`${probe}.quorum`);
        return;
      } finally {
        await connection.close().catch(() => undefined);
      }
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the broker did not serve stream and quorum queues after its restart: ${(error as Error).message}`);
      await pause(500);
    }
  }
}
