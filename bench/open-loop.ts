/**
 * Open-loop load at a fixed rate: each request is due at its scheduled time and its latency is
 * measured from then, so a stall shows up in the percentiles instead of slowing the load
 * (no coordinated omission). Prints one JSON line of percentiles in microseconds.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const [url, rateText, secondsText, poolFile, attackShare] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const pool = JSON.parse(readFileSync(poolFile!, 'utf8')) as {
  ips: string[];
  tokens: string[];
  bad: string[];
};
const client = new Pool(url!, { connections: 64, pipelining: 1 });
const latencies: number[] = [];
let errors = 0;
const total = rate * seconds;
const start = performance.now() + 50;
let sent = 0;
let done = 0;

function pick<T>(list: T[], i: number): T {
  // Zipf-like: a few clients send most requests, as real traffic does.
  return list[Math.floor(list.length * ((i * 0.618033988749895) % 1) ** 3)]!;
}

await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now();
    while (sent < total && start + (sent * 1000) / rate <= now) {
      const due = start + (sent * 1000) / rate;
      const i = sent++;
      const attack = Number(attackShare ?? 0) > 0 && i % Math.round(1 / Number(attackShare)) === 0;
      const authed = !attack && i % 10 < 3;
      const headers: Record<string, string> = {
        'x-forwarded-for': attack ? pick(pool.bad, i) : pick(pool.ips, i),
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
      };
      if (authed) {
        // A subject lives somewhere: each token comes from its own home address.
        const t = Math.floor(pool.tokens.length * ((i * 0.618033988749895) % 1));
        headers['authorization'] = `Bearer ${pool.tokens[t]}`;
        headers['x-forwarded-for'] = pool.ips[t]!;
      }
      client
        .request({ method: 'GET', path: authed ? `/orders/${i % 900}` : `/products/${i % 5000}`, headers })
        .then(
          async (res) => {
            await res.body.dump();
            latencies.push(performance.now() - due);
          },
          () => {
            errors++;
          },
        )
        .finally(() => {
          if (++done === total) resolve();
        });
    }
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
});
await client.close();
latencies.sort((a, b) => a - b);
const p = (q: number) =>
  Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 1000);
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, errors, p50: p(0.5), p90: p(0.9), p99: p(0.99), max: p(1 - 1e-9) })}\n`,
);
