import { uuidV5 } from '../deterministic-id.js';

const SESSION_TOKEN_NAMESPACE = '3c8f1e27-5b4a-4f0e-9d61-7a2b9e0c4d18';

export const sessionStreamId = (sessionId: string) => `session-${sessionId}`;

/**
 * The id of a session's refresh token of one generation (0 at sign-in, +1 per rotation). It follows from the session
 * and the generation, so whoever knows how far a session rotated knows every token id it ever had: the read model
 * forgets a closed session's tokens by key, and the decider can tell whether a presented id is one of its own.
 * The id only finds the token; the secret beside it proves possession.
 */
export function sessionTokenId(sessionId: string, generation: number): string {
  return uuidV5(`${sessionId}/${generation}`, SESSION_TOKEN_NAMESPACE);
}
