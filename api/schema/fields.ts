/** Field types shared across the RiskPolicy schema. */
import { z } from 'zod';
import { isCidr } from '../cidr.ts';

const DURATION = /^([0-9]{1,6}(ms|s|m|h))+$/;
export const duration = (def: string) =>
  z
    .string()
    .max(32)
    .regex(DURATION, 'must be a duration such as 30s, 5m or 1h')
    .default(def)
    .describe(`A duration such as 30s, 5m or 1h. Default ${def}.`);

export const cidr = z
  .string()
  .max(49)
  .refine(isCidr, 'must be an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32')
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'isIP(self) || isCIDR(self)',
        message: 'must be an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32',
      },
    ],
  });

export const weight = (def: number) =>
  z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(def)
    .describe(`Points this signal adds to the 0–100 score at full strength. Default ${def}.`);

export const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const name = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lower-case DNS label (a-z, 0-9, -)');

export const countryCode = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE');
