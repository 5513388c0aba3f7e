export const apiTokenStreamId = (tokenId: string) => `apitoken-${tokenId}`;

/** Tokens a team may hold that are not revoked: each one is a standing credential somebody must look after. */
export const MAX_LIVE_API_TOKENS = 100;
