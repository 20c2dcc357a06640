import { createHmac } from 'node:crypto';
import type { Notification } from './events.js';

/** An HTTP request a notifier wants sent: the dispatcher owns delivery, retries and timeouts. */
export interface OutgoingRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export const SIGNATURE_HEADER = 'X-Tocsin-Signature';
export const TIMESTAMP_HEADER = 'X-Tocsin-Timestamp';

/**
 * The generic webhook: `{ event, sent_at, incident, entries }` as JSON, with `reroot: { from, to }`
 * for `incident.rerooted`. With a secret, the body is signed: `X-Tocsin-Signature:
 * sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` and the timestamp (Unix seconds) in
 * `X-Tocsin-Timestamp`, so a receiver rejects forged and replayed requests
 * (docs/notifications.md). Built per attempt: a retry carries a fresh timestamp.
 */
export function webhookRequest(n: Notification, nowMs: number, secret: string | undefined): OutgoingRequest {
  const body = JSON.stringify({
    event: n.event,
    sent_at: new Date(nowMs).toISOString(),
    incident: n.incident,
    entries: n.entries,
    // `incident.rerooted` only: the other events' bodies are as they always were.
    ...(n.reroot ? { reroot: { from: n.reroot.from, to: n.reroot.to } } : {}),
  });
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Tocsin-Event': n.event,
    'X-Tocsin-Delivery': n.id,
  };
  if (secret) {
    const timestamp = String(Math.floor(nowMs / 1000));
    headers[TIMESTAMP_HEADER] = timestamp;
    headers[SIGNATURE_HEADER] = `sha256=${sign(secret, timestamp, body)}`;
  }
  return { body, headers };
}

/** Hex HMAC-SHA256 of `<timestamp>.<body>`: what receivers recompute. */
export function sign(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}
