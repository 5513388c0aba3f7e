import { alertsProjection, inFlightProjection } from './alerts.js';
import { flowsProjection } from './flows.js';
import type { Projection } from './projection.js';

/** The read models; a command's response waits until all of them have passed its position. */
export const readModelProjections: readonly Projection<any, any>[] = [alertsProjection, inFlightProjection, flowsProjection];
