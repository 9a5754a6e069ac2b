// The fakes' https identity (tls/README.md): a committed self-signed certificate for 127.0.0.1.
import { createHash, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'

const folder = new URL('./tls/', import.meta.url)

export const LOOPBACK_TLS = {
  cert: readFileSync(new URL('loopback-cert.pem', folder), 'utf8'),
  key: readFileSync(new URL('loopback-key.pem', folder), 'utf8'),
}

/**
 * The certificate's public key hash in the form Chromium's `--ignore-certificate-errors-spki-list`
 * takes (base64 SHA-256 of the SubjectPublicKeyInfo), so a browser trusts this one certificate only.
 */
export function loopbackSpkiHash() {
  const spki = new X509Certificate(LOOPBACK_TLS.cert).publicKey.export({
    type: 'spki',
    format: 'der',
  })
  return createHash('sha256').update(spki).digest('base64')
}
