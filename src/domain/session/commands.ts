/**
 * A refresh token as presented: its id, the sha256 of its secret, and the generation the read model recorded for that
 * id. The stream keeps only the current token's hash; a spent token's hash was checked against the read model
 * before the command was sent, so a forged secret never reaches a session's stream.
 */
export interface PresentedToken {
  tokenId: string;
  tokenHash: string;
  generation: number;
}

export type SessionCommand =
  | {
      type: 'StartSession';
      sessionId: string;
      userId: string;
      tokenHash: string;
      /** The first token's expiry (now + REFRESH_TOKEN_TTL_DAYS); capped by the absolute expiry. */
      expiresAt: Date;
      /** now + SESSION_MAX_DAYS. */
      absoluteExpiresAt: Date;
      now: Date;
    }
  | {
      type: 'RotateSessionToken';
      presented: PresentedToken;
      next: { tokenHash: string; expiresAt: Date };
      /** The user's "sessions valid after" instant (sign-out everywhere, password change); null if never set. */
      sessionsValidAfter: Date | null;
      now: Date;
    }
  | { type: 'SignOut'; presented: PresentedToken; now: Date }
  /** Closes the session if it is no longer valid (revoked by the user's cutoff, or expired); otherwise nothing. */
  | { type: 'CloseSession'; userId: string; sessionsValidAfter: Date | null; now: Date };
