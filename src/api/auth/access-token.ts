import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';

const ISSUER = 'alertops';
const AUDIENCE = 'alertops-api';

export interface AccessTokenClaims {
  userId: string;
  /** From `iat`, to the millisecond: tokens issued before the user's "sessions valid after" instant are refused. */
  issuedAt: Date;
}

export class AccessTokens {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(userId: string, now = new Date()): Promise<string> {
    const issuedAt = Math.floor(now.getTime() / 1000);
    return new SignJWT({ typ: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      // A NumericDate may carry a fraction (RFC 7519, section 2): to the millisecond, a token issued just after the
      // user signed out everywhere is told apart from one issued just before, within the same second.
      .setIssuedAt(now.getTime() / 1000)
      .setExpirationTime(issuedAt + this.ttlSeconds)
      .sign(this.key);
  }

  /** Null for anything but a well-formed, unexpired HS256 token signed with our key (so never `alg: none`). */
  async verify(token: string): Promise<AccessTokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      // Only user ids are ever issued; any other subject would reach uuid columns in queries and fail there.
      const userId = z.uuid().safeParse(payload.sub);
      if (payload.typ !== 'access' || !userId.success) return null;
      return { userId: userId.data, issuedAt: new Date(Math.round((payload.iat as number) * 1000)) };
    } catch (error) {
      if (error instanceof errors.JOSEError || error instanceof TypeError) return null;
      throw error;
    }
  }
}
