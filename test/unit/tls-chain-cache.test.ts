import type { DetailedPeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { MAX_CHAIN } from '../../probes/tls/cert.js';
import { type CertEntry, CertCache } from '../../probes/tls/chain.js';
import { Lru } from '../../probes/tls/lru.js';

// The tls probe's certificate cache as pure logic: which certificates are read, which are kept, and
// how the peer chain is walked. Peers are fakes shaped as getPeerCertificate(true) returns them;
// reading real certificates from real handshakes is test/integration/tls-probe.test.ts's part.

describe('Lru', () => {
  it('keeps at most its capacity, forgetting the least recently used first', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // a is now the most recently used
    lru.set('c', 3);
    expect(lru.size).toBe(2);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
  });

  it('replaces a value without growing, and refuses a capacity that cannot hold anything', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('a', 2);
    expect(lru.size).toBe(1);
    expect(lru.get('a')).toBe(2);
    expect(() => new Lru(0)).toThrow(/positive integer/);
    expect(() => new Lru(1.5)).toThrow(/positive integer/);
  });
});

/** A fake peer certificate: `name` is its DER and, hashed by node:tls in real life, its fingerprint. */
function peer(name: string, issuer?: DetailedPeerCertificate): DetailedPeerCertificate {
  return {
    raw: Buffer.from(name),
    fingerprint256: `FP:${name}`,
    ...(issuer ? { issuerCertificate: issuer } : {}),
  } as unknown as DetailedPeerCertificate;
}

/** A self-signed root as node:tls links it: its own issuer. */
function root(name: string): DetailedPeerCertificate {
  const cert = peer(name);
  (cert as { issuerCertificate: DetailedPeerCertificate }).issuerCertificate = cert;
  return cert;
}

/** A cache whose reader records what it read; `unreadable` names certificates it cannot parse. */
function counting(capacity?: number, unreadable: readonly string[] = []): { cache: CertCache; reads: string[] } {
  const reads: string[] = [];
  const read = (raw: Buffer): CertEntry | undefined => {
    const name = raw.toString();
    reads.push(name);
    if (unreadable.includes(name)) return undefined;
    return {
      facts: { subject: name } as CertEntry['facts'],
      key: { type: 'rsa', bits: 2048 },
      notBeforeMs: 0,
      notAfterMs: 1,
    };
  };
  return { cache: new CertCache({ ...(capacity !== undefined ? { capacity } : {}), read }), reads };
}

const subjects = (chain: readonly CertEntry[]): string[] => chain.map((c) => c.facts.subject);

describe('CertCache', () => {
  it('reads each certificate once; the same chain again reads nothing and gives the same entries', () => {
    const { cache, reads } = counting();
    const first = cache.chain(peer('leaf', peer('intermediate', root('root'))));
    expect(subjects(first)).toEqual(['leaf', 'intermediate', 'root']);
    expect(reads).toEqual(['leaf', 'intermediate', 'root']);
    // A new handshake gives new objects with the same bytes.
    const second = cache.chain(peer('leaf', peer('intermediate', root('root'))));
    expect(reads).toHaveLength(3);
    expect(cache.parsed).toBe(3);
    expect(second[0]).toBe(first[0]);
  });

  it('reads only the certificate that changed: a renewed leaf under the same issuers', () => {
    const { cache, reads } = counting();
    cache.chain(peer('leaf-1', peer('intermediate', root('root'))));
    const renewed = cache.chain(peer('leaf-2', peer('intermediate', root('root'))));
    expect(subjects(renewed)).toEqual(['leaf-2', 'intermediate', 'root']);
    expect(reads).toEqual(['leaf-1', 'intermediate', 'root', 'leaf-2']);
    // A changed intermediate under the same leaf is seen too: the chain is walked on every check.
    const crossSigned = cache.chain(peer('leaf-2', peer('intermediate-x', root('other-root'))));
    expect(subjects(crossSigned)).toEqual(['leaf-2', 'intermediate-x', 'other-root']);
  });

  it('never holds more than its capacity, and reads an evicted certificate again when it comes back', () => {
    const { cache, reads } = counting(3);
    for (let i = 0; i < 50; i++) cache.chain(peer(`leaf-${i}`));
    expect(cache.size).toBe(3);
    cache.chain(peer('leaf-49'));
    expect(reads).toHaveLength(50);
    cache.chain(peer('leaf-0'));
    expect(reads).toHaveLength(51);
    expect(cache.size).toBe(3);
  });

  it('stops at a self-signed certificate, at a repeat and after MAX_CHAIN certificates', () => {
    const { cache } = counting();
    expect(subjects(cache.chain(root('self')))).toEqual(['self']);
    const a = peer('a');
    const b = peer('b', a);
    (a as { issuerCertificate: DetailedPeerCertificate }).issuerCertificate = b;
    expect(subjects(cache.chain(a))).toEqual(['a', 'b']);
    let long: DetailedPeerCertificate | undefined;
    for (let i = 0; i < MAX_CHAIN + 5; i++) long = peer(`c${i}`, long);
    expect(cache.chain(long)).toHaveLength(MAX_CHAIN);
    expect(cache.chain(undefined)).toEqual([]);
  });

  it('ends the chain at a certificate it cannot read, and tries it again next time', () => {
    const { cache, reads } = counting(undefined, ['garbled']);
    expect(subjects(cache.chain(peer('leaf', peer('garbled', root('root')))))).toEqual(['leaf']);
    cache.chain(peer('leaf', peer('garbled', root('root'))));
    expect(reads).toEqual(['leaf', 'garbled', 'garbled']);
  });
});
