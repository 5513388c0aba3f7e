import type { NotificationAttemptPlan } from '../../domain/alert/notification-attempt.js';
import { signActionToken } from '../../infra/action-link-tokens.js';

/** The link a page carries to its action page (`<PUBLIC_URL>/a/<token>`), signed for that delivery and its recipient. */
export type ActionLinkOf = (plan: NotificationAttemptPlan) => string;

export interface ActionLinkOptions {
  key: Buffer;
  ttlHours: number;
  /** Read per page: the default is the address the API listens on, known only once it listens. */
  publicUrl: () => string;
  clock: () => Date;
}

export function actionLinks(options: ActionLinkOptions): ActionLinkOf {
  return (plan) => {
    const token = signActionToken(options.key, {
      alertId: plan.alertId,
      deliveryId: plan.deliveryId,
      teamId: plan.teamId,
      userId: plan.target.type === 'user' ? plan.target.userId : null,
      expiresAt: new Date(options.clock().getTime() + options.ttlHours * 3_600_000),
    });
    return `${options.publicUrl()}/a/${token}`;
  };
}
