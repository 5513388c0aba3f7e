import { conflict, type Decider, notFound, unauthenticated } from '../decider.js';
import type { NewRefreshToken, UserCommand } from './commands.js';
import type { UserEvent } from './events.js';

export interface RefreshTokenFamily {
  currentTokenId: string;
  expiresAt: string;
  revoked: boolean;
}

export type UserState =
  | { status: 'none' }
  | {
      status: 'registered';
      userId: string;
      email: string;
      name: string;
      passwordHash: string;
      families: Record<string, RefreshTokenFamily>;
      /** Every token ever issued, spent ones included: a spent token presented again is how theft shows. */
      tokens: Record<string, { familyId: string; tokenHash: string }>;
    };

export type RegisteredUserState = Extract<UserState, { status: 'registered' }>;

const INVALID_REFRESH_TOKEN = 'the refresh token is invalid or expired';

function issued(userId: string, token: NewRefreshToken, now: Date): UserEvent {
  return {
    type: 'RefreshTokenIssued',
    data: {
      userId,
      familyId: token.familyId,
      tokenId: token.tokenId,
      tokenHash: token.tokenHash,
      issuedAt: now.toISOString(),
      expiresAt: token.expiresAt.toISOString(),
    },
  };
}

function decideRotation(command: Extract<UserCommand, { type: 'RotateRefreshToken' }>, state: RegisteredUserState): UserEvent[] {
  const presented = state.tokens[command.tokenId];
  if (!presented || presented.tokenHash !== command.presentedHash) throw unauthenticated(INVALID_REFRESH_TOKEN, 'invalid_refresh_token');
  const family = state.families[presented.familyId]!;
  if (family.revoked) throw unauthenticated(INVALID_REFRESH_TOKEN, 'invalid_refresh_token');
  if (family.currentTokenId !== command.tokenId) {
    return [
      {
        type: 'RefreshTokenReuseDetected',
        data: { userId: state.userId, familyId: presented.familyId, tokenId: command.tokenId, detectedAt: command.now.toISOString() },
      },
    ];
  }
  if (command.now.getTime() >= Date.parse(family.expiresAt)) throw unauthenticated(INVALID_REFRESH_TOKEN, 'invalid_refresh_token');
  return [
    {
      type: 'RefreshTokenRotated',
      data: {
        userId: state.userId,
        familyId: presented.familyId,
        previousTokenId: command.tokenId,
        tokenId: command.next.tokenId,
        tokenHash: command.next.tokenHash,
        rotatedAt: command.now.toISOString(),
        expiresAt: command.next.expiresAt.toISOString(),
      },
    },
  ];
}

export const userDecider: Decider<UserCommand, UserState, UserEvent> = {
  initialState: () => ({ status: 'none' }),

  evolve(state, event) {
    switch (event.type) {
      case 'UserRegistered': {
        const { userId, email, name, passwordHash } = event.data;
        return { status: 'registered', userId, email, name, passwordHash, families: {}, tokens: {} };
      }
      case 'RefreshTokenIssued':
      case 'RefreshTokenRotated': {
        if (state.status !== 'registered') return state;
        const { familyId, tokenId, tokenHash, expiresAt } = event.data;
        return {
          ...state,
          families: { ...state.families, [familyId]: { currentTokenId: tokenId, expiresAt, revoked: false } },
          tokens: { ...state.tokens, [tokenId]: { familyId, tokenHash } },
        };
      }
      case 'RefreshTokenReuseDetected': {
        if (state.status !== 'registered') return state;
        const family = state.families[event.data.familyId];
        if (!family) return state;
        return { ...state, families: { ...state.families, [event.data.familyId]: { ...family, revoked: true } } };
      }
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'RegisterUser': {
        if (state.status !== 'none') throw conflict('a user with this email already exists', 'email_taken');
        const { userId, email, name, passwordHash, now } = command;
        return [
          { type: 'UserRegistered', data: { userId, email, name, passwordHash, registeredAt: now.toISOString() } },
          issued(userId, command.refreshToken, now),
        ];
      }
      case 'IssueRefreshToken':
        if (state.status !== 'registered') throw notFound('user not found');
        return [issued(state.userId, command.refreshToken, command.now)];
      case 'RotateRefreshToken':
        if (state.status !== 'registered') throw unauthenticated(INVALID_REFRESH_TOKEN, 'invalid_refresh_token');
        return decideRotation(command, state);
    }
  },
};
