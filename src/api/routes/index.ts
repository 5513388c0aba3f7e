import type { AnyRouteSpec } from '../routing.js';

export const routes: readonly AnyRouteSpec[] = [];
