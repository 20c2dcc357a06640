import type { CheckResult } from '../src/events/probe-result.js';
import type { CheckContext, ProbeKind } from './probe.js';
import { Deadline, roundMs } from './shared/deadline.js';
import { parseHostPort } from './shared/host-port.js';
import type { Failure, NetPhase } from './shared/net-errors.js';
import { PhaseClock } from './shared/phase-clock.js';
import type { TlsSpec } from './shared/tls-spec.js';
import { peerCertificates } from './tls/chain.js';
import { checkExpectations, daysLeft, verifyFailure } from './tls/expect.js';
import { handshake, type Session } from './tls/handshake.js';
import { TlsProbeShape, TlsProbeSpec } from './tls/spec.js';

export { TlsProbeSpec };

/** What `run` receives: the kind's keys plus the common ones; only `tls` matters here. */
export type TlsCheckSpec = TlsProbeSpec & { readonly tls?: TlsSpec | undefined };

/** Phase timings as the tls kind names them: `connect` and `handshake` (and `dns` for a name). */
function timingsOf(clock: PhaseClock<NetPhase>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [phase, ms] of Object.entries(clock.timings())) out[phase === 'tls' ? 'handshake' : phase] = ms;
  return out;
}

/** The session's facts for `observations` (CONTRACT §3: kind-specific; docs/probes-tls.md). */
function observeSession(session: Session, nowMs: number): Record<string, unknown> {
  const obs: Record<string, unknown> = {
    protocol: session.protocol,
    cipher: session.cipher,
    alpn: session.alpn,
    // The cached certificates' own (frozen) facts: shared by every result that reports them.
    chain: session.chain.map((cert) => cert.facts),
  };
  const leaf = session.chain[0];
  if (leaf?.notAfterMs !== undefined) {
    obs.days_left = daysLeft(leaf.notAfterMs, nowMs);
    // The leaf's not_after is already ISO 8601 when it parsed.
    obs.cert_not_after = leaf.facts.not_after;
  }
  if (session.remoteAddress !== undefined) obs.remote_address = session.remoteAddress;
  return obs;
}

/** One check of one `host:port`: connect, handshake, verification, then the expectations. */
async function checkTarget(spec: TlsCheckSpec, target: string, ctx: CheckContext): Promise<CheckResult> {
  const deadline = new Deadline(ctx);
  const clock = new PhaseClock<NetPhase>();
  const done = (failure: Failure | undefined, observations?: Record<string, unknown>): CheckResult => ({
    target,
    ok: failure === undefined,
    duration_ms: roundMs(deadline.elapsedMs()),
    ...(failure ? { error: failure.error, detail: failure.detail } : {}),
    ...(observations ? { observations } : {}),
  });

  try {
    const address = parseHostPort(target);
    // The config schema refuses such targets; reaching here means a caller bypassed it.
    if (!address)
      return done({ error: 'internal', detail: `tls probe: target "${target}" is not host:port` });
    const { session, failure } = await handshake(
      {
        host: address.host,
        port: address.port,
        tls: spec.tls,
        alpnProtocols: spec.alpn_protocols,
        localAddress: ctx.sourceAddress,
        certs: peerCertificates,
      },
      deadline,
      clock,
    );
    const timings = timingsOf(clock);
    if (!session) return done(failure, { timings });

    const nowMs = Date.now();
    const observations: Record<string, unknown> = { timings, ...observeSession(session, nowMs) };
    const leaf = session.chain[0];
    const notBefore = leaf?.notBeforeMs !== undefined ? new Date(leaf.notBeforeMs) : undefined;
    const notAfter = leaf?.notAfterMs !== undefined ? new Date(leaf.notAfterMs) : undefined;
    const verdict = verifyFailure({
      chainError: session.chainError,
      identityError: session.identityError,
      leaf: notBefore && notAfter ? { notBefore, notAfter } : undefined,
      nowMs,
    });
    if (verdict) {
      observations.verify_error = verdict.detail;
      // `insecure`: the operator accepts this certificate; the expectations below still apply.
      if (!(spec.tls?.insecure ?? false)) return done(verdict, observations);
    }
    const expectFailure = checkExpectations(spec.expect, {
      handshakeMs: timings.handshake ?? 0,
      alpn: session.alpn,
      leafKey: leaf?.key,
      leafNotAfter: notAfter,
      nowMs,
    });
    return done(expectFailure, observations);
  } catch (err) {
    // Only a bug gets here (handshake never rejects): Tocsin's own failure, not the target's.
    return done({
      error: 'internal',
      detail: `tls probe: ${err instanceof Error ? err.message : String(err)}`,
    });
  } finally {
    deadline.dispose();
  }
}

/**
 * `kind: tls`: a TLS handshake with each `host:port` (CONTRACT §2): connect and handshake times,
 * protocol, cipher, ALPN and the certificate chain (key type and size, expiry, signature algorithm),
 * judged against the `tls` block and `expect`. One result per target.
 */
export const tlsProbe: ProbeKind<TlsCheckSpec> = {
  kind: 'tls',
  shape: TlsProbeShape,
  grouping: 'each',
  targets: (spec) => [...spec.targets],
  run: (spec, targets, ctx) => Promise.all(targets.map((target) => checkTarget(spec, target, ctx))),
};
