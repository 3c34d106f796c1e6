import type { Queue } from 'bullmq';
import type { RedisClient } from './connection.js';

/** Whether a job exists: `missing`, `present`, or present but `failed` (attempts exhausted). */
export type JobPresence = 'missing' | 'present' | 'failed';

// One call for a whole page: is each job hash there, and is it in the failed set? The failed set is the last key
// (declared, as Redis Cluster requires of every key a script touches; a queue's keys share its prefix's hash slot).
const JOB_STATES = `
local out = {}
local failed = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    out[i] = 0
  elseif redis.call('ZSCORE', failed, ARGV[i]) then
    out[i] = 2
  else
    out[i] = 1
  end
end
return out`;
const PRESENCE: JobPresence[] = ['missing', 'present', 'failed'];

/**
 * The presence of each job id in `queue`, in one Lua call (no key scan): what the reconcilers (refresh jobs, webhook
 * deliveries) need to tell which jobs Redis lost.
 */
export async function jobPresence(redis: RedisClient, queue: Queue, jobIds: readonly string[]): Promise<JobPresence[]> {
  if (jobIds.length === 0) return [];
  const states = (await redis.eval(
    JOB_STATES,
    jobIds.length + 1,
    ...jobIds.map((id) => queue.toKey(id)),
    queue.toKey('failed'),
    ...jobIds,
  )) as number[];
  return states.map((s) => PRESENCE[s] ?? 'missing');
}
