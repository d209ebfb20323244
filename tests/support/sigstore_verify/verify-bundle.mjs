// Usage: sigstore-verify BUNDLE.json PUBLIC-KEY.pem
// Verifies a Sigstore bundle with @sigstore/verify, offline: the only trust material is the
// public key, found by the bundle's publicKey.hint (base64 SHA-256 of the DER key, as cosign
// and karmor write it). No transparency log, certificate log or timestamp authority is
// required (karmor signs without them, like `cosign sign --tlog-upload=false`).
// Exit 0 and prints the DSSE payload type and the statement's subject digests when the
// signature verifies; exit 1 with the verifier's error otherwise.
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

const [bundlePath, keyPath] = process.argv.slice(2);
if (!bundlePath || !keyPath) {
  console.error('usage: sigstore-verify BUNDLE.json PUBLIC-KEY.pem');
  process.exit(2);
}

try {
  const der = createPublicKey(readFileSync(keyPath)).export({ type: 'spki', format: 'der' });
  const hint = createHash('sha256').update(der).digest('base64');
  const noAuthorities = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
  const trust = toTrustMaterial(noAuthorities, { [hint]: { rawBytes: der } });

  const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8')));
  const verifier = new Verifier(trust, {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    tsaThreshold: 0,
    timestampThreshold: 0,
  });
  verifier.verify(toSignedEntity(bundle));

  const envelope = bundle.content.dsseEnvelope;
  const statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8'));
  console.log(`verified ${envelope.payloadType}`);
  for (const subject of statement.subject ?? []) console.log(`subject sha256:${subject.digest?.sha256}`);
} catch (error) {
  console.error(`sigstore-verify: ${error.code ?? ''} ${error.message}`);
  process.exit(1);
}
