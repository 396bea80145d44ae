/** Scheduled maintenance (EventBridge): compaction, retention, gap closing and object cleanup. */
import { awsEngineFromEnv } from '../lib/lambda/aws-app.ts';

const engine = awsEngineFromEnv();

export async function handler(): Promise<Awaited<ReturnType<typeof engine.maintain>>> {
  const report = await engine.maintain();
  console.log(JSON.stringify({ message: 'maintenance pass', ...report }));
  return report;
}
