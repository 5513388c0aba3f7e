/** A refresh token about to be handed out: ids and the sha256 of its secret, made by the command handler. */
export interface NewRefreshToken {
  familyId: string;
  tokenId: string;
  tokenHash: string;
  expiresAt: Date;
}

export type UserCommand =
  | {
      type: 'RegisterUser';
      userId: string;
      email: string;
      name: string;
      passwordHash: string;
      refreshToken: NewRefreshToken;
      now: Date;
    }
  | { type: 'IssueRefreshToken'; refreshToken: NewRefreshToken; now: Date }
  | {
      type: 'RotateRefreshToken';
      tokenId: string;
      presentedHash: string;
      next: Omit<NewRefreshToken, 'familyId'>;
      now: Date;
    };
