import { normalizeEmail } from '../../domain/user/identity.js';
import type { ApiServices } from '../services.js';
import { clientNetwork } from './client-network.js';

/**
 * How a bucket of failed password checks slows its next attempt: the first `freeFailures` cost nothing, then each
 * failure doubles the wait (1 s, 2 s, 4 s, … up to `maxWaitSeconds`), and one counted failure leaks away every
 * `leakSeconds`, so an occasional typo is forgotten and only a sustained guesser stays slow.
 */
export interface ThrottlePolicy {
  freeFailures: number;
  leakSeconds: number;
  maxWaitSeconds: number;
}

/*
 * Two buckets, and deliberately no account-wide one.
 *
 * - An account at a network (an IPv4 address, an IPv6 /64): guessing one account from one place. Five free
 *   failures, then exponential waits up to an hour; at most about one guess an hour once it is sustained.
 * - A network alone: spraying many accounts from one place. Twenty free failures (offices share an address), then
 *   exponential waits; a failure leaks every five minutes.
 *
 * Any limit keyed by the account alone would let whoever trips it lock the rightful user out from everywhere, which
 * is the very attack a throttle must not hand out. Keyed by account and network, a guesser only ever slows down
 * attempts from their own network: the owner signing in from another address is never refused. A guesser spread
 * over many networks is slowed per network, not stopped; that is what second factors are for.
 */
const ACCOUNT_AT_NETWORK: ThrottlePolicy = { freeFailures: 5, leakSeconds: 3600, maxWaitSeconds: 3600 };
const NETWORK: ThrottlePolicy = { freeFailures: 20, leakSeconds: 300, maxWaitSeconds: 3600 };
/** Every bucket has leaked empty a day after its last failure (its count stays below free + log2(max wait) + 1). */
const FORGOTTEN_AFTER_MS = 86_400_000;

export interface BucketState {
  failures: number;
  lastFailureAt: Date;
}

/** The failures a bucket still counts at `now`, and the earliest moment its next attempt is allowed. */
export function bucketStanding(bucket: BucketState, policy: ThrottlePolicy, now: Date): { failures: number; nextAttemptAt: Date } {
  const last = bucket.lastFailureAt.getTime();
  const leaked = Math.floor(Math.max(0, now.getTime() - last) / (policy.leakSeconds * 1000));
  const failures = Math.max(0, bucket.failures - leaked);
  const waitSeconds = failures < policy.freeFailures ? 0 : Math.min(policy.maxWaitSeconds, 2 ** (failures - policy.freeFailures));
  return { failures, nextAttemptAt: new Date(last + waitSeconds * 1000) };
}

type ThrottleServices = Pick<ApiServices, 'pool' | 'clock'>;

const accountAtNetwork = (email: string, network: string) => `account:${normalizeEmail(email)} network:${network}`;
const networkAlone = (network: string) => `network:${network}`;

function bucketsOf(email: string, address: string): { key: string; policy: ThrottlePolicy }[] {
  const network = clientNetwork(address);
  return [
    { key: accountAtNetwork(email, network), policy: ACCOUNT_AT_NETWORK },
    { key: networkAlone(network), policy: NETWORK },
  ].sort((a, b) => (a.key < b.key ? -1 : 1));
}

/**
 * Checks whether a password may be tried now and, if so, counts the attempt as a failure before the slow hash runs
 * (a success gives it back, see `forgiveSignInAttempt`). Null when the attempt may go ahead; otherwise the seconds to
 * wait, and nothing is counted. The buckets are locked for the decision, so parallel guesses queue and each sees
 * the failures of those before it: they cannot exceed the limit. Kept in PostgreSQL so every API process counts alike.
 */
export async function chargeSignInAttempt(
  services: ThrottleServices,
  email: string,
  address: string,
): Promise<{ retryAfterSeconds: number } | null> {
  const now = services.clock();
  const buckets = bucketsOf(email, address);
  const keys = buckets.map((bucket) => bucket.key);
  const client = await services.pool.connect();
  let refusal: { retryAfterSeconds: number } | null = null;
  try {
    await client.query('begin');
    // Creates missing buckets and locks them all, in key order so that concurrent attempts never deadlock.
    const { rows } = await client.query<{ bucket: string; failures: number; last_failure_at: Date }>(
      `insert into login_throttle (bucket, failures, last_failure_at)
       select key, 0, $2 from unnest($1::text[]) with ordinality as attempt(key, n) order by n
       on conflict (bucket) do update set bucket = excluded.bucket
       returning bucket, failures, last_failure_at`,
      [keys, now],
    );
    const standings = buckets.map(({ key, policy }) => {
      const row = rows.find((candidate) => candidate.bucket === key)!;
      return bucketStanding({ failures: row.failures, lastFailureAt: row.last_failure_at }, policy, now);
    });
    const nextAttemptAt = Math.max(...standings.map((standing) => standing.nextAttemptAt.getTime()));
    if (nextAttemptAt > now.getTime()) {
      refusal = { retryAfterSeconds: Math.max(1, Math.ceil((nextAttemptAt - now.getTime()) / 1000)) };
    } else {
      await client.query(
        `update login_throttle as bucket set failures = charged.failures, last_failure_at = $3
           from unnest($1::text[], $2::int[]) as charged(key, failures) where bucket.bucket = charged.key`,
        [keys, standings.map((standing) => standing.failures + 1), now],
      );
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  // Buckets nobody failed in for a day count nothing any more; skip any a concurrent attempt holds.
  await services.pool.query(
    `delete from login_throttle where bucket in (
       select bucket from login_throttle where last_failure_at < $1 order by last_failure_at limit 100 for update skip locked)`,
    [new Date(now.getTime() - FORGOTTEN_AFTER_MS)],
  );
  return refusal;
}

/**
 * The password was right: the account starts afresh at this network, and the network gets back the one failure this
 * attempt was charged (one success must not wipe out a spray's failures from the same place).
 */
export async function forgiveSignInAttempt(services: ThrottleServices, email: string, address: string): Promise<void> {
  const network = clientNetwork(address);
  await services.pool.query(
    `with forgiven as (delete from login_throttle where bucket = $1)
     update login_throttle set failures = greatest(failures - 1, 0) where bucket = $2`,
    [accountAtNetwork(email, network), networkAlone(network)],
  );
}
