import { IANAZone } from 'luxon';
import { z } from 'zod';

/** Area/Location names such as `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5` or `UTC`. */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** An IANA time zone this runtime knows; fixed offsets such as `+01:00` are not zones and are refused. */
export function isIanaTimeZone(name: string): boolean {
  return name.length <= 64 && IANA_NAME.test(name) && IANAZone.isValidZone(name);
}

export const TimeZone = z.string().refine(isIanaTimeZone, { message: 'not an IANA time zone' });
