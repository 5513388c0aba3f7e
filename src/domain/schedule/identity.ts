export const scheduleStreamId = (scheduleId: string) => `schedule-${scheduleId}`;
