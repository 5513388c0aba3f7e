import type { ApiServices } from '../services.js';

const WINDOW_MS = 15 * 60_000;
/** Failures within the window that close the door: per email (guessing one account), per IP (spraying many). */
const MAX_FAILURES_PER_EMAIL = 5;
const MAX_FAILURES_PER_IP = 20;

type ThrottleServices = Pick<ApiServices, 'pool' | 'clock'>;

/**
 * Seconds until another attempt is allowed, or null when it is allowed now. Blocked while the window holds the
 * limit's worth of failures, i.e. until the oldest of the latest `limit` failures leaves the window. Kept in
 * PostgreSQL so every API process counts the same failures.
 */
export async function loginRetryAfterSeconds(services: ThrottleServices, email: string, ip: string): Promise<number | null> {
  const now = services.clock();
  const windowStart = new Date(now.getTime() - WINDOW_MS);
  const { rows } = await services.pool.query<{ blocked_from: Date | null }>(
    `select max(failed_at) as blocked_from from (
       (select failed_at from login_failures where email = $1 and failed_at > $3 order by failed_at desc offset $4 limit 1)
       union all
       (select failed_at from login_failures where ip = $2 and failed_at > $3 order by failed_at desc offset $5 limit 1)
     ) as limiting`,
    [email, ip, windowStart, MAX_FAILURES_PER_EMAIL - 1, MAX_FAILURES_PER_IP - 1],
  );
  const blockedFrom = rows[0]?.blocked_from;
  if (!blockedFrom) return null;
  return Math.max(1, Math.ceil((blockedFrom.getTime() + WINDOW_MS - now.getTime()) / 1000));
}

export async function recordLoginFailure(services: ThrottleServices, email: string, ip: string): Promise<void> {
  const now = services.clock();
  await services.pool.query(
    `with expired as (
       delete from login_failures where (email = $1 or ip = $2) and failed_at <= $4
     )
     insert into login_failures (email, ip, failed_at) values ($1, $2, $3)`,
    [email, ip, now, new Date(now.getTime() - WINDOW_MS)],
  );
}

/** A correct password forgives the email's earlier failures (not the IP's: one success must not unlock a spray). */
export async function clearLoginFailures(services: ThrottleServices, email: string): Promise<void> {
  await services.pool.query('delete from login_failures where email = $1', [email]);
}
