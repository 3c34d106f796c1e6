import type { Queue } from 'bullmq';
import type { RedisClient } from './connection.js';

/** Whether a job exists: `missing`, `present`, or present but `failed` (attempts exhausted). */
export type JobPresence = 'missing' | 'present' | 'failed';

// One call for a whole page: is each job hash there, and is it in the failed set? KEYS[1]: the failed set; ARGV: the
// key prefix, then the ids. Job keys are built here from the prefix rather than sent in full: a page is thousands.
// On Redis Cluster the prefix is hash-tagged (`{ttc}`), so every job key built here is in the failed set's slot.
const JOB_STATES = `
local failed, prefix = KEYS[1], ARGV[1]
local out = {}
for i = 1, #ARGV - 1 do
  local id = ARGV[i + 1]
  if redis.call('EXISTS', prefix .. id) == 0 then
    out[i] = 0
  elseif redis.call('ZSCORE', failed, id) then
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
 *
 * Only the failed set is declared as a key (it routes the call); the job keys are built from the queue's prefix in the
 * script, which stays on one Redis Cluster slot as long as the prefix is hash-tagged, as BullMQ requires there anyway.
 */
export async function jobPresence(redis: RedisClient, queue: Queue, jobIds: readonly string[]): Promise<JobPresence[]> {
  if (jobIds.length === 0) return [];
  const states = (await redis.eval(JOB_STATES, 1, queue.toKey('failed'), queue.toKey(''), ...jobIds)) as number[];
  return states.map((s) => PRESENCE[s] ?? 'missing');
}
