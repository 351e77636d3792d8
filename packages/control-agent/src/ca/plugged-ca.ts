import type { X509Certificate } from 'node:crypto';
import type { PluggedCaFiles } from './ca-options.ts';
import type { ScheduledAuthority } from './ca-view.ts';
import {
  CaMaterialError,
  isSelfSigned,
  loadSigningAuthority,
  parseCertificates,
} from './signing-authority.ts';

/**
 * An operator-supplied CA, as Istio's plug-in CA takes it: the certificate to sign with (a root,
 * or an intermediate under the organisation's root), its key, the chain up to a root, and the
 * roots workloads trust. Every agent given the same files signs the same way; nothing is written
 * to the store. To rotate, put old and new roots in the roots file (both trusted), switch the
 * certificate and key, and drop the old root once every SVID it signed has expired.
 */
export function loadPluggedCa(files: PluggedCaFiles): {
  readonly schedule: readonly ScheduledAuthority[];
  readonly roots: readonly X509Certificate[];
} {
  const roots = parseCertificates(files.roots, 'the CA roots file');
  if (roots.length === 0) throw new CaMaterialError('the CA roots file holds no certificate');
  for (const [index, root] of roots.entries()) {
    if (!root.ca || !isSelfSigned(root)) {
      throw new CaMaterialError(
        `certificate ${index + 1} of the CA roots file is not a self-signed CA (${root.subject})`,
      );
    }
  }
  const authority = loadSigningAuthority({
    certificatePem: files.certificate,
    keyPem: files.key,
    ...(files.chain === undefined ? {} : { chainPem: files.chain }),
    roots,
    what: 'the plugged-in CA',
  });
  return {
    schedule: [{ authority, activatesAtMs: Number.NEGATIVE_INFINITY, retiresAtMs: undefined }],
    roots,
  };
}
