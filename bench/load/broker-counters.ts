import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { z } from 'zod';

const run = promisify(execFile);

/*
 * RabbitMQ 3.10 without the management plugin keeps no per-queue publish counts, but it keeps broker-wide
 * message counters (rabbit_global_counters) and per-quorum-queue Raft counters (ra_counters). Both are read
 * with `rabbitmqctl eval`. The global counters include every other user of the broker, so the Raft commands
 * applied on other queues during the same window are reported beside them: zero means the window was ours alone.
 */

const Counters = z.record(z.string(), z.number());
const Snapshot = z.object({
  protocol: Counters,
  quorum: Counters,
  classic: Counters,
  quorumDeadLetters: Counters,
  raftCommandsByQueue: z.record(z.string(), z.number()),
});
export type BrokerSnapshot = z.infer<typeof Snapshot>;

export interface BrokerTraffic {
  /** Messages published by clients (every client of the broker). */
  published: number;
  /** Messages a quorum queue dead-lettered (at-least-once) on expiry: the delay cascade's hops. */
  deadLetterHops: number;
  /** Messages delivered to consumers. */
  delivered: number;
  /** Raft commands (enqueue, settle, dead-letter, ...) applied by this run's quorum queues. */
  raftCommandsOnPrefix: number;
  /** Raft commands applied by every other quorum queue of the broker meanwhile: other work on the broker. */
  raftCommandsElsewhere: number;
}

const EXPRESSION = `
    G = rabbit_global_counters:overview(),
    Pick = fun(K) -> maps:get(K, G, #{}) end,
    Raft = maps:fold(fun
        ({Name, _Node}, C, Acc) when is_atom(Name), is_map(C) -> Acc#{atom_to_binary(Name, utf8) => maps:get(commands, C, 0)};
        (_, _, Acc) -> Acc
      end, #{}, ra_counters:overview()),
    io:format("~s~n", [rabbit_json:encode(#{
      protocol => Pick([{protocol, amqp091}]),
      quorum => Pick([{protocol, amqp091}, {queue_type, rabbit_quorum_queue}]),
      classic => Pick([{protocol, amqp091}, {queue_type, rabbit_classic_queue}]),
      quorumDeadLetters => Pick([{queue_type, rabbit_quorum_queue}, {dead_letter_strategy, at_least_once}]),
      raftCommandsByQueue => Raft})]),
    ok.`;

/** The broker's counters now, or null when `rabbitmqctl` cannot be run here (remote broker, no permission). */
export async function readBrokerCounters(): Promise<BrokerSnapshot | null> {
  try {
    const { stdout } = await run('rabbitmqctl', ['eval', EXPRESSION], { timeout: 20_000 });
    const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
    return line ? Snapshot.parse(JSON.parse(line)) : null;
  } catch {
    return null;
  }
}

/** What the broker did between two snapshots; `prefix` names this run's queues (vhost `/`). */
export function brokerTraffic(before: BrokerSnapshot | null, after: BrokerSnapshot | null, prefix: string): BrokerTraffic | null {
  if (!before || !after) return null;
  const ownQueue = `%2F_${prefix}.`;
  let raftCommandsOnPrefix = 0;
  let raftCommandsElsewhere = 0;
  // A queue deleted meanwhile drops out of the second snapshot; a queue created meanwhile started from zero.
  for (const [queue, commands] of Object.entries(after.raftCommandsByQueue)) {
    const applied = commands - (before.raftCommandsByQueue[queue] ?? 0);
    if (queue.startsWith(ownQueue)) raftCommandsOnPrefix += applied;
    else raftCommandsElsewhere += applied;
  }
  const delta = (pick: (snapshot: BrokerSnapshot) => Record<string, number>, key: string) => (pick(after)[key] ?? 0) - (pick(before)[key] ?? 0);
  return {
    published: delta((s) => s.protocol, 'messages_received_total'),
    deadLetterHops: delta((s) => s.quorumDeadLetters, 'messages_dead_lettered_expired_total'),
    delivered: delta((s) => s.quorum, 'messages_delivered_total') + delta((s) => s.classic, 'messages_delivered_total'),
    raftCommandsOnPrefix,
    raftCommandsElsewhere,
  };
}

/** The broker's product and version, as it announces them on connection. */
export async function brokerVersion(amqpUrl: string): Promise<string> {
  try {
    const connection = await amqp.connect(amqpUrl);
    try {
      const { product, version } = connection.connection.serverProperties;
      return `${String(product ?? 'unknown')} ${String(version ?? '')}`.trim();
    } finally {
      await connection.close().catch(() => undefined);
    }
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}
