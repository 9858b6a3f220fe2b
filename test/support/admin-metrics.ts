/** Reads an enforcer's /metrics: the sum of every sample whose line starts with `prefix` (a name, or a name and labels). */
export async function metricSum(adminUrl: string, prefix: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(prefix)) sum += Number(line.split(' ').pop());
  return sum;
}
