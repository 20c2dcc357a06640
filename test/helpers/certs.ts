import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// Test certificates made at run time with the openssl CLI: nothing secret or expiring is committed,
// and expired / not-yet-valid certificates are real ones (openssl ca -startdate/-enddate), not mocks.

const run = promisify(execFile);

export type KeyType = 'rsa2048' | 'rsa4096' | 'ec-p256';

/** A certificate and its key, as PEM text and as files (for servers or tools that want paths). */
export interface CertPair {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface LeafOptions {
  /** DNS subjectAltNames. Default ["localhost"]. */
  readonly dns?: readonly string[];
  /** IP subjectAltNames. Default ["127.0.0.1"] (only when `dns` is not given either). */
  readonly ips?: readonly string[];
  /** Subject CN. Default: the first DNS name or IP. */
  readonly cn?: string;
  /** Default rsa2048. */
  readonly keyType?: KeyType;
  /** Validity window; default from one day ago to 90 days ahead. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Self-signed instead of issued by the test CA. */
  readonly selfSigned?: boolean;
}

/** A private CA in a temp directory that issues leaves on demand. */
export interface TestPki {
  readonly dir: string;
  readonly ca: CertPair;
  /** Issues (or self-signs) a leaf; `name` is the file stem inside `dir`. */
  issue(name: string, options?: LeafOptions): Promise<CertPair>;
  /** Removes the directory. */
  cleanup(): Promise<void>;
}

const DAY_MS = 86_400_000;

/** openssl's GeneralizedTime for -startdate/-enddate: YYYYMMDDHHMMSSZ. */
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`);
  }
}

async function genKey(file: string, type: KeyType, cwd: string): Promise<void> {
  const algo =
    type === 'ec-p256'
      ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']
      : ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${type === 'rsa4096' ? 4096 : 2048}`];
  await openssl(['genpkey', ...algo, '-out', file], cwd);
}

function caConfig(dir: string): string {
  return `[ ca ]
default_ca = test_ca

[ test_ca ]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/issued
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no

[ policy_any ]
commonName = supplied

[ req ]
distinguished_name = dn
prompt = no

[ dn ]
CN = unused

[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`;
}

function leafExtensions(options: LeafOptions, selfSigned: boolean): string {
  const dns = options.dns ?? (options.ips ? [] : ['localhost']);
  const ips = options.ips ?? (options.dns ? [] : ['127.0.0.1']);
  const san = [...dns.map((d) => `DNS:${d}`), ...ips.map((ip) => `IP:${ip}`)].join(',');
  const usage = options.keyType === 'ec-p256' ? 'digitalSignature' : 'digitalSignature,keyEncipherment';
  return `[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,${usage}
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
${selfSigned ? '' : 'authorityKeyIdentifier = keyid,issuer\n'}${san ? `subjectAltName = ${san}\n` : ''}`;
}

async function readPair(dir: string, stem: string): Promise<CertPair> {
  const certFile = join(dir, `${stem}.pem`);
  const keyFile = join(dir, `${stem}.key`);
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), certFile, keyFile };
}

/** Creates a private CA ("Tocsin Test CA", RSA 2048 unless told) in a fresh temp directory. */
export async function createTestPki(options: { caKeyType?: KeyType } = {}): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-pki-'));
  await mkdir(join(dir, 'issued'));
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  const cnf = join(dir, 'openssl.cnf');
  await writeFile(cnf, caConfig(dir));

  await genKey('ca.key', options.caKeyType ?? 'rsa2048', dir);
  await openssl(
    ['req', '-config', cnf, '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '3650'].concat([
      '-subj',
      '/CN=Tocsin Test CA',
      '-extensions',
      'v3_ca',
      '-out',
      'ca.pem',
    ]),
    dir,
  );
  const ca = await readPair(dir, 'ca');

  // `openssl ca` keeps a database and a serial file: issue one certificate at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const issueNow = async (name: string, opts: LeafOptions): Promise<CertPair> => {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === 'ca') throw new Error(`bad certificate name "${name}"`);
    const selfSigned = opts.selfSigned ?? false;
    const notBefore = opts.notBefore ?? new Date(Date.now() - DAY_MS);
    const notAfter = opts.notAfter ?? new Date(Date.now() + 90 * DAY_MS);
    const cn = opts.cn ?? opts.dns?.[0] ?? opts.ips?.[0] ?? 'localhost';
    const ext = join(dir, `${name}.ext`);
    await writeFile(ext, leafExtensions(opts, selfSigned));
    // `req -x509` (OpenSSL 3.0) takes extensions only from its -config: give it one with the leaf section.
    const selfCnf = join(dir, `${name}.cnf`);
    if (selfSigned) await writeFile(selfCnf, `${caConfig(dir)}\n${leafExtensions(opts, true)}`);
    await genKey(`${name}.key`, opts.keyType ?? 'rsa2048', dir);
    if (selfSigned) {
      const days = String(Math.max(1, Math.ceil((notAfter.getTime() - Date.now()) / DAY_MS)));
      await openssl(
        ['req', '-config', selfCnf, '-x509', '-new', '-key', `${name}.key`, '-sha256', '-days', days].concat([
          '-subj',
          `/CN=${cn}`,
          '-extensions',
          'leaf',
          '-out',
          `${name}.pem`,
        ]),
        dir,
      );
    } else {
      await openssl(
        ['req', '-config', cnf, '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`],
        dir,
      );
      await openssl(
        ['ca', '-batch', '-config', cnf, '-notext', '-md', 'sha256', '-cert', 'ca.pem', '-keyfile', 'ca.key']
          .concat(['-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter)])
          .concat(['-extfile', ext, '-extensions', 'leaf', '-in', `${name}.csr`, '-out', `${name}.pem`]),
        dir,
      );
    }
    return readPair(dir, name);
  };

  return {
    dir,
    ca,
    issue(name, opts = {}) {
      // One issue at a time: each waits for the one before to settle, whatever its outcome, and
      // a failure reaches only its own caller (through the promise returned here).
      const next = Promise.allSettled([queue]).then(() => issueNow(name, opts));
      queue = next;
      return next;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The usual cast of certificates for probe tests, all for 127.0.0.1/localhost unless named otherwise. */
export interface FixtureCerts {
  readonly pki: TestPki;
  /** Valid, signed by the test CA: DNS localhost, IP 127.0.0.1. */
  readonly localhost: CertPair;
  /** Same names, expired yesterday. */
  readonly expired: CertPair;
  /** Same names, valid only from next month. */
  readonly notYetValid: CertPair;
  /** Valid and signed by the CA, but for wrong.example.test only. */
  readonly wrongHost: CertPair;
  /** Valid names, signed by itself. */
  readonly selfSigned: CertPair;
  /** Valid for app.example.test (to test SNI and `address`). */
  readonly app: CertPair;
  /** Valid, EC P-256 key. */
  readonly ecdsa: CertPair;
}

/** Makes the FixtureCerts set (a couple of seconds of key generation); call `pki.cleanup()` after. */
export async function makeFixtureCerts(): Promise<FixtureCerts> {
  const pki = await createTestPki();
  const now = Date.now();
  return {
    pki,
    localhost: await pki.issue('localhost'),
    expired: await pki.issue('expired', {
      notBefore: new Date(now - 30 * DAY_MS),
      notAfter: new Date(now - DAY_MS),
    }),
    notYetValid: await pki.issue('not-yet-valid', {
      notBefore: new Date(now + 30 * DAY_MS),
      notAfter: new Date(now + 60 * DAY_MS),
    }),
    wrongHost: await pki.issue('wrong-host', { dns: ['wrong.example.test'] }),
    selfSigned: await pki.issue('self-signed', { selfSigned: true }),
    app: await pki.issue('app', { dns: ['app.example.test'] }),
    ecdsa: await pki.issue('ecdsa', { keyType: 'ec-p256' }),
  };
}
