// Usage: sigstore-verify BUNDLE.json PUBLIC-KEY.pem
//    or: sigstore-verify --trusted-root FILE (--certificate-identity SAN | --certificate-identity-regexp RE)
//                        --certificate-oidc-issuer URL [--certificate-github-workflow-{trigger,sha,name,
//                        repository,ref} VALUE]... BUNDLE.json
//    or: sigstore-verify --trusted-root FILE --key PUBLIC-KEY.pem [--tlog-threshold N]
//                        [--timestamp-threshold N] BUNDLE.json
// Verifies a Sigstore bundle with @sigstore/verify, offline.
// With a public key, the only trust material is that key, found by the bundle's publicKey.hint
// (base64 SHA-256 of the DER key, as cosign and karmor write it), and no transparency log,
// certificate log or timestamp authority is required (karmor signs without them, like
// `cosign sign --tlog-upload=false`).
// With a trusted root (Sigstore's trusted_root.json), a keyless bundle: the certificate must
// chain to a CA of the root, carry an SCT from one of its CT logs, have a tlog entry from one of
// its logs whose SET gives the signing time, and name exactly SAN (or a SAN that the JavaScript
// regular expression RE matches) and the OIDC issuer; the
// verifier's default thresholds (one tlog entry, one SCT, one timestamp) apply.
// With a trusted root and a key (issue 24), a bundle signed with the key whose transparency-log
// entries and RFC 3161 timestamps are checked against the root's logs and timestamp authorities:
// at least N verified log entries (default 1) and N verified timestamps (default 0; log entries'
// SETs and RFC 3161 timestamps both count); every timestamp present must verify.
// Exit 0 and prints the DSSE payload type and the statement's subject digests when the
// signature verifies; exit 1 with the verifier's error otherwise.
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

const usage = 'usage: sigstore-verify BUNDLE.json PUBLIC-KEY.pem\n' +
  '       sigstore-verify --trusted-root FILE (--certificate-identity SAN | --certificate-identity-regexp RE) ' +
  '--certificate-oidc-issuer URL BUNDLE.json';

// cosign's --certificate-github-workflow-* flags: the raw-string Fulcio extensions they compare,
// given to the verifier as OID policies (the extension's value bytes must be equal).
const workflowOids = {
  '--certificate-github-workflow-trigger': [1, 3, 6, 1, 4, 1, 57264, 1, 2],
  '--certificate-github-workflow-sha': [1, 3, 6, 1, 4, 1, 57264, 1, 3],
  '--certificate-github-workflow-name': [1, 3, 6, 1, 4, 1, 57264, 1, 4],
  '--certificate-github-workflow-repository': [1, 3, 6, 1, 4, 1, 57264, 1, 5],
  '--certificate-github-workflow-ref': [1, 3, 6, 1, 4, 1, 57264, 1, 6],
};

function parseArguments(argv) {
  const options = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (['--trusted-root', '--certificate-identity', '--certificate-identity-regexp',
         '--certificate-oidc-issuer', '--key', '--tlog-threshold', '--timestamp-threshold',
         ...Object.keys(workflowOids)].includes(flag)) {
      if (i + 1 >= argv.length) return null;
      options[flag.slice(2)] = argv[++i];
    } else {
      positional.push(flag);
    }
  }
  return { options, positional };
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const parsed = parseArguments(process.argv.slice(2));
const rootAndKey = parsed && parsed.options['trusted-root'] !== undefined && parsed.options.key !== undefined;
const keyless = parsed && parsed.options['trusted-root'] !== undefined && !rootAndKey;
const identityGiven = (options) =>
  (options['certificate-identity'] === undefined) !== (options['certificate-identity-regexp'] === undefined);
if (!parsed || (keyless && (parsed.positional.length !== 1 || !identityGiven(parsed.options) ||
                            !parsed.options['certificate-oidc-issuer'])) ||
    (rootAndKey && parsed.positional.length !== 1) || (!keyless && !rootAndKey && parsed.positional.length !== 2)) {
  console.error(usage);
  process.exit(2);
}

try {
  let trust;
  let verifier;
  let policy;
  if (rootAndKey) {
    const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(parsed.options['trusted-root'], 'utf8')));
    const der = createPublicKey(readFileSync(parsed.options.key)).export({ type: 'spki', format: 'der' });
    const hint = createHash('sha256').update(der).digest('base64');
    trust = toTrustMaterial(root, { [hint]: { rawBytes: der } });
    verifier = new Verifier(trust, {
      tlogThreshold: Number(parsed.options['tlog-threshold'] ?? 1),
      ctlogThreshold: 0,
      timestampThreshold: Number(parsed.options['timestamp-threshold'] ?? 0),
    });
  } else if (keyless) {
    const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(parsed.options['trusted-root'], 'utf8')));
    trust = toTrustMaterial(root);
    verifier = new Verifier(trust);
    policy = {
      subjectAlternativeName: parsed.options['certificate-identity'] !== undefined
        ? `^${escapeRegExp(parsed.options['certificate-identity'])}$`
        : parsed.options['certificate-identity-regexp'],
      extensions: { issuer: parsed.options['certificate-oidc-issuer'] },
    };
    const oids = Object.entries(workflowOids)
      .filter(([flag]) => parsed.options[flag.slice(2)] !== undefined)
      .map(([flag, id]) => ({ oid: { id }, value: Buffer.from(parsed.options[flag.slice(2)], 'utf8') }));
    if (oids.length > 0) policy.oids = oids;
  } else {
    const der = createPublicKey(readFileSync(parsed.positional[1])).export({ type: 'spki', format: 'der' });
    const hint = createHash('sha256').update(der).digest('base64');
    const noAuthorities = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
    trust = toTrustMaterial(noAuthorities, { [hint]: { rawBytes: der } });
    verifier = new Verifier(trust, {
      tlogThreshold: 0,
      ctlogThreshold: 0,
      tsaThreshold: 0,
      timestampThreshold: 0,
    });
  }

  const bundle = bundleFromJSON(JSON.parse(readFileSync(parsed.positional[0], 'utf8')));
  const signer = verifier.verify(toSignedEntity(bundle), policy);

  const envelope = bundle.content.dsseEnvelope;
  const statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8'));
  console.log(`verified ${envelope.payloadType}`);
  if (signer.identity) {
    console.log(`identity ${signer.identity.subjectAlternativeName}`);
    console.log(`issuer ${signer.identity.extensions?.issuer}`);
  }
  for (const subject of statement.subject ?? []) console.log(`subject sha256:${subject.digest?.sha256}`);
} catch (error) {
  console.error(`sigstore-verify: ${error.code ?? ''} ${error.message}`);
  process.exit(1);
}
