/** How long after a rotation deliveries are also signed with the secret it replaced, so receivers can switch over. */
export const SIGNATURE_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** Which generation of a team's webhook secret is current, and when it became so (null: never rotated). */
export interface WebhookSecretGeneration {
  generation: number;
  rotatedAt: Date | null;
}

/** The generations a delivery made at `now` is signed with: the current one, and the previous one for a day. */
export function signingGenerations(secret: WebhookSecretGeneration, now: Date): number[] {
  const { generation, rotatedAt } = secret;
  const overlapping = generation > 0 && rotatedAt !== null && now.getTime() - rotatedAt.getTime() < SIGNATURE_OVERLAP_MS;
  return overlapping ? [generation, generation - 1] : [generation];
}
