import type { AnyRouteSpec } from '../routing.js';
import { alertRoutes } from './alerts.js';
import { auditRoute } from './audit.js';

export const routes: readonly AnyRouteSpec[] = [
  ...alertRoutes,
  auditRoute,
];
