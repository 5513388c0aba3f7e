export const teamStreamId = (teamId: string) => `team-${teamId}`;
