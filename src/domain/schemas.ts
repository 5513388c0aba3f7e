import { z } from 'zod';

/** An instant as events and the API carry it: ISO 8601 with its offset. */
export const Timestamp = z.iso.datetime({ offset: true });

/** A SHA-256 digest in lowercase hex: how tokens are kept, never the tokens themselves. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
