/** Thresholds, what each decision does, and allow-lists. */
import { z } from 'zod';
import { withRules } from '../rule.ts';
import { cidr, duration, httpMethod } from './fields.ts';

// ---------------------------------------------------------------------------------------------
// thresholds and actions

export const thresholds = withRules(
  z
    .strictObject({
      challenge: z.number().int().min(1).max(100).default(40),
      restrict: z.number().int().min(1).max(100).default(60),
      deny: z.number().int().min(1).max(100).default(80),
    })
    .describe('Score at or above which each decision applies, before route sensitivity tightens it.'),
  [
    {
      cel: 'self.challenge < self.restrict && self.restrict < self.deny',
      message: 'thresholds must be ordered: challenge < restrict < deny',
      check: (v) => v.challenge < v.restrict && v.restrict < v.deny,
    },
  ],
);

export const actions = z
  .strictObject({
    challenge: z
      .strictObject({
        kind: z
          .enum(['auto', 'step-up', 'proof-of-work'])
          .default('auto')
          .describe('auto: step-up for authenticated subjects, proof-of-work for anonymous clients.'),
        stepUp: z
          .strictObject({
            acrValues: z.array(z.string().min(1).max(256)).min(1).max(8).default(['mfa']),
            maxAge: z
              .number()
              .int()
              .min(0)
              .max(86400)
              .optional()
              .describe('Seconds since authentication (RFC 9470).'),
          })
          .prefault({}),
        proofOfWork: z
          .strictObject({
            minDifficulty: z
              .number()
              .int()
              .min(1)
              .max(30)
              .default(12)
              .describe('Leading zero bits at the threshold.'),
            maxDifficulty: z
              .number()
              .int()
              .min(1)
              .max(30)
              .default(20)
              .describe('Leading zero bits at score 100.'),
            ttl: duration('2m').describe('How long a solved challenge is valid.'),
            clearance: duration('30m').describe(
              'How long a browser that solved the challenge page is not challenged again at the same or a lower difficulty: an HttpOnly cookie, signed and bound to its address (IPv6: its prefix). API clients solve each challenge instead.',
            ),
          })
          .prefault({}),
      })
      .prefault({}),
    restrict: z
      .strictObject({
        allowedMethods: z.array(httpMethod).min(1).max(7).default(['GET', 'HEAD', 'OPTIONS']),
        rateLimit: z
          .strictObject({
            requests: z.number().int().min(1).max(1000000).default(30),
            per: duration('1m'),
          })
          .prefault({}),
      })
      .prefault({}),
    deny: z
      .strictObject({
        status: z.literal([403, 404, 429]).default(403).describe('Status of a denial. Default 403.'),
        retryAfterSeconds: z.number().int().min(0).max(86400).optional(),
      })
      .prefault({}),
  })
  .describe('What each decision does to the request.');

export const allowList = z
  .strictObject({
    cidrs: z
      .array(cidr)
      .max(256)
      .default([])
      .describe('Clients in these ranges are never challenged or denied.'),
    subjects: z
      .array(z.string().min(1).max(256))
      .max(256)
      .default([])
      .describe('Subjects never challenged or denied.'),
  })
  .describe('Exemptions. Allow-lists win over every signal.');
