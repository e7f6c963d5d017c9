/**
 * Which Redis reply errors are permanent: the command itself is wrong (`ERR wrong number of
 * arguments`, a script error), so sending it again cannot help. A server that cannot serve it
 * now — loading, busy, failing over or redirecting (MOVED/ASK while a cluster master is down),
 * out of memory, a read-only replica, credentials or ACLs being fixed — is transient.
 *
 * @example
 * isPermanentReply(await redis.hmget('k').catch((e) => e)); // true
 */
const TRANSIENT_REPLY =
  /^(LOADING|BUSY|TRYAGAIN|MOVED|ASK|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS|OOM|MISCONF|NOSCRIPT|NOAUTH|WRONGPASS|NOPERM)\b/;

export function isPermanentReply(e: unknown): boolean {
  return e instanceof Error && e.name === 'ReplyError' && !TRANSIENT_REPLY.test(e.message);
}
