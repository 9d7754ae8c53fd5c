/**
 * Every Redis key the service writes, by prefix, in one place: what lives where, for a newcomer and for
 * an operator scanning Redis. Everything here expires except the job queue's bookkeeping and the
 * connection registry.
 */
export const redisKeys = {
  /** express-session records (connect-redis adds the session id); TTL = the cookie's maxAge. */
  sessionPrefix: 'rc:sess:',
  /** A one-time connect link, under the SHA-256 of its token (never the token); TTL = the link's lifetime. */
  connectLink: (tokenHash: string) => `rc:cs:${tokenHash}`,
  /** The claim on an OAuth state (SET NX): the first callback for a state wins; TTL = a flow's lifetime. */
  stateClaim: (stateKey: string) => `rc:state:${stateKey}`,
  /**
   * While one request finds or creates the Leaf user of an externalId (SET NX), under the SHA-256 of
   * the externalId; TTL = the lock's lifetime (connect-links/external-id-lock.ts).
   */
  externalIdLock: (externalIdHash: string) => `rc:xid:${externalIdHash}`,
  /** Rate-limit counters of one limiter (rate-limit-redis adds the client key); TTL = the window. */
  rateLimitPrefix: (limiter: string) => `rc:rl:${limiter}:`,
  /**
   * The job queue (BullMQ) and the delivery outbox. The `{jobs}` hash tag puts both in one Redis
   * Cluster slot, so one MULTI can write a parked token and its job.
   */
  defaultJobPrefix: 'rc:{jobs}',
  /**
   * The outbox's keys under a job prefix: the sealed token, the grower's pending marker and lock, and
   * `due` (a sorted set: delivery id → when the relay looks at it next).
   */
  outbox: (jobPrefix: string) => ({
    record: (deliveryId: string) => `${jobPrefix}:outbox:${deliveryId}`,
    pending: (leafUserId: string) => `${jobPrefix}:pending:${leafUserId}`,
    lock: (leafUserId: string) => `${jobPrefix}:lock:${leafUserId}`,
    due: `${jobPrefix}:due`,
  }),
  /**
   * The connection registry (registry/), no expiry: what this service connected, for Leaf's Alerts and
   * the list endpoint. Under the job prefix's hash tag, so the delivery's finish script can write it
   * and its scripts touch one Cluster slot.
   */
  registry: (jobPrefix: string) => ({
    /** Hash per Leaf user: credentialId, health, healthChangedAt, connectedAt, createdAt, leafStatus. */
    userPrefix: `${jobPrefix}:conn:user:`,
    /** credentialId → Leaf user (Leaf's alerts name only the credential). */
    credentialPrefix: `${jobPrefix}:conn:cred:`,
    /** Sorted set of every Leaf user (score 0: ordered by id, so paging by id is stable). */
    index: `${jobPrefix}:conn:index`,
    /** The same, per health, for `?health=`. */
    healthPrefix: `${jobPrefix}:conn:health:`,
    /** One instance's claim on the failed-calls recovery run (SET NX PX). */
    recoveryLock: `${jobPrefix}:conn:recovery-lock`,
    /** An alert for a credential not yet registered (its delivery still finishing); TTL one day. */
    earlyAlertPrefix: `${jobPrefix}:conn:early:`,
  }),
  /** Webhook events recorded but not yet queued (a list, oldest first); the relay turns them into jobs. */
  webhookOutbox: (jobPrefix: string) => `${jobPrefix}:webhook-outbox`,
} as const
