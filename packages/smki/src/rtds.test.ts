/**
 * Reads every certificate in a real keystore folder in the RTDS layout, e.g. the DCC's public
 * RTDS keystore (which may not be copied into this repository):
 *   SMETSIM_RTDS_KEYSTORE=/path/to/rtds/keystore npx vitest run packages/smki/src/rtds.test.ts
 * A folder made by initPki works too, and then the issuer checks have CAs to check against.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { toHex } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import { isIssuedBy, parseCertificate, type SmkiCertificate } from './certificate.ts'
import { keyIdentifier } from './profile.ts'

const dir = process.env.SMETSIM_RTDS_KEYSTORE ?? ''

/** What is wrong with the DCC's RTDS 4.5.0 keystore files themselves. */
const KNOWN_ANOMALIES: Record<string, string> = {
  'fffffffffffffffe-ka.pem': 'not a certificate: the PEM block is a PUBLIC KEY',
  '90b3d51f30000007-ka.pem': 'holds the certificate of 90B3D51F30030000',
}

describe.runIf(dir)(`every certificate in the keystore ${dir}`, () => {
  it('parses, with the EUI and key usage its file name says, its private key, and issued by the CAs present', () => {
    const problems: Record<string, string> = {}
    const named: { file: string; eui: string; usage: string; cert: SmkiCertificate }[] = []
    const authorities: SmkiCertificate[] = []
    const pemFiles = readdirSync(dir).filter((f) => f.endsWith('.pem'))
    for (const file of pemFiles) {
      let cert: SmkiCertificate
      try {
        cert = parseCertificate(readFileSync(join(dir, file), 'utf8'))
      } catch (e) {
        problems[file] = (e as Error).message
        continue
      }
      expect(cert.subjectKeyIdentifier, file).toBe(toHex(keyIdentifier(cert.publicKey)))
      const m = /^([0-9a-f]{16})-(ds|ka|pp-ka)\.pem$/.exec(file)
      if (m) named.push({ file, eui: m[1]!.toUpperCase(), usage: m[2]!, cert })
      else if (cert.kind === 'root' || cert.kind === 'ca') authorities.push(cert)
    }

    let issuerChecks = 0
    let keyChecks = 0
    for (const { file, eui, usage, cert } of named) {
      const keyFile = join(dir, file.replace(/\.pem$/, '.key'))
      if (existsSync(keyFile)) {
        const publicKey = createPublicKey(createPrivateKey(readFileSync(keyFile)))
        expect(publicKey.equals(cert.certificate.publicKey), `${keyFile} matches ${file}`).toBe(true)
        keyChecks++
      }
      if (cert.eui !== eui) problems[file] = `holds the certificate of ${cert.eui}`
      expect(cert.keyUsage, file).toEqual([usage === 'ds' ? 'digitalSignature' : 'keyAgreement'])
      expect(['organisation', 'device'], file).toContain(cert.kind)
      const ca = authorities.find((a) => a.subject === cert.issuer)
      if (ca) {
        expect(isIssuedBy(cert, ca), file).toBe(true)
        issuerChecks++
      }
    }

    const expected = Object.fromEntries(Object.entries(KNOWN_ANOMALIES).filter(([f]) => pemFiles.includes(f)))
    expect(problems).toEqual(expected)
    console.info(
      `${pemFiles.length} .pem files: ${named.length} certificates checked against their file names, ` +
        `${Object.keys(problems).length} known anomalies, ${keyChecks} private keys matched, ` +
        `${authorities.length} CAs, ${issuerChecks} issuer checks`,
    )
  })
})
