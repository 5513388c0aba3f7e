export const alertStreamId = (alertId: string) => `alert-${alertId}`;
