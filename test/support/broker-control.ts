import { spawnSync } from 'node:child_process';

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
