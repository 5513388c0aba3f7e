export const contactStreamId = (userId: string) => `contact-${userId}`;

/** A person's contact methods and rules live in a small stream of their own, bounded by these caps. */
export const MAX_CONTACT_METHODS = 20;
export const MAX_NOTIFICATION_RULES = 10;
export const MAX_RULE_DELAY_MINUTES = 1440;
/** Wrong codes a pending verification takes before it must be started again (by removing and re-adding the method). */
export const MAX_VERIFICATION_ATTEMPTS = 5;
export const VERIFICATION_CODE_TTL_MINUTES = 15;
