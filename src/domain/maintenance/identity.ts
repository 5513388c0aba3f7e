export const maintenanceWindowStreamId = (windowId: string) => `maintenance-${windowId}`;
