/** One stream per team holds its subscriptions: the cap is decided against all of them at once. */
export const subscriptionsStreamId = (teamId: string) => `subscriptions-${teamId}`;
