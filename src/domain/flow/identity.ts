export const flowStreamId = (flowId: string) => `flow-${flowId}`;
