import type { Context } from 'koa';
import { z } from 'zod';
import { badRequest } from './problem.js';

/** What carries a version that If-Match can name. */
export type VersionedResource = 'flow' | 'schedule';

/** The header as a client sends it: one version, as the ETag gave it, or `*`. */
export const IfMatchHeader = z.string().regex(/^(?:"\d{1,9}"|\d{1,9}|\*)$/);

/**
 * The version the client last saw, from `If-Match: "3"` (or `3`); undefined without the header or for `*`.
 * Versions are strong validators, so a weak tag can never match.
 */
export function ifMatchVersion(ctx: Context, resource: VersionedResource): number | undefined {
  const header = ctx.get('if-match').trim();
  if (header === '' || header === '*') return undefined;
  const match = /^(?:"(\d{1,9})"|(\d{1,9}))$/.exec(header);
  if (!match) throw badRequest(`If-Match must name one ${resource} version, as in the ETag: "3"`, { code: 'invalid_if_match' });
  const version = Number(match[1] ?? match[2]);
  if (version < 1) throw badRequest(`${resource} versions start at 1`, { code: 'invalid_if_match' });
  return version;
}

export const etag = (version: number) => ({ ETag: `"${version}"` });
