export type UserCommand =
  | { type: 'RegisterUser'; userId: string; email: string; name: string; passwordHash: string; now: Date }
  | {
      type: 'ChangePassword';
      /** The hash the current password was verified against: a password changed meanwhile makes this a conflict. */
      verifiedPasswordHash: string;
      newPasswordHash: string;
      now: Date;
    }
  | { type: 'RevokeAllSessions'; now: Date };
