import { connect, createServer, type TLSSocket } from 'node:tls'
import { parseEui } from '@smetsim/core'
import { describe, expect, it } from 'vitest'
import {
  createTlsCa,
  issueTlsClientCertificate,
  issueTlsServerCertificate,
  TLS_CLIENT_UNITS,
  tlsIdentityOf,
} from './tls.ts'

const pem = (c: { certificate: { toString(): string }; privateKey: { export(o: object): unknown } }) => ({
  cert: c.certificate.toString(),
  key: c.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
})
const A = parseEui('90B3D51F30010000')

describe('TLS credentials for the HTTP API', () => {
  const ca = createTlsCa()
  const server = issueTlsServerCertificate(ca)
  const client = issueTlsClientCertificate(ca, { kind: 'user', user: A })

  it('issues a server certificate for the loopback names and client certificates naming their holder', () => {
    expect(server.certificate.checkIssued(ca.certificate)).toBe(true)
    expect(server.certificate.verify(ca.certificate.publicKey)).toBe(true)
    expect(server.certificate.checkHost('localhost')).toBe('localhost')
    expect(server.certificate.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(server.certificate.checkHost('example.com')).toBeUndefined()
    expect(client.certificate.verify(ca.certificate.publicKey)).toBe(true)
    expect(client.certificate.subject).toBe(`O=smetsim\nOU=${TLS_CLIENT_UNITS.user}\nCN=${A}`)
    expect(tlsIdentityOf(client.certificate)).toEqual({ kind: 'user', user: A })
    const auditor = issueTlsClientCertificate(ca, { kind: 'auditor', name: 'auditor' })
    expect(tlsIdentityOf(auditor.certificate)).toEqual({ kind: 'auditor', name: 'auditor' })
  })

  it('names nobody for a subject that is not a User or auditor one', () => {
    expect(tlsIdentityOf(server.certificate)).toMatchObject({
      problem: expect.stringMatching(/not a DCC User/),
    })
    expect(tlsIdentityOf({ OU: TLS_CLIENT_UNITS.user, CN: 'supplier A' })).toMatchObject({
      problem: expect.stringMatching(/EUI-64/),
    })
    expect(tlsIdentityOf({ OU: [TLS_CLIENT_UNITS.user, 'x'], CN: A })).toHaveProperty('problem')
  })

  it('completes a mutual TLS handshake with its client certificate, not with one from another CA', async () => {
    const listener = createServer(
      { ...pem(server), ca: ca.certificate.toString(), requestCert: true, rejectUnauthorized: true },
      (s) => s.end(JSON.stringify(tlsIdentityOf((s as TLSSocket).getPeerCertificate().subject))),
    )
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    const port = (listener.address() as { port: number }).port
    const talk = (credential: ReturnType<typeof pem>) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port, ca: ca.certificate.toString(), ...credential })
        let text = ''
        socket.on('data', (d) => {
          text += d
        })
        socket.on('end', () => resolve(text))
        socket.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code}`))
      })
    try {
      expect(JSON.parse(await talk(pem(client)))).toEqual({ kind: 'user', user: A })
      const refused: string[] = []
      listener.on('tlsClientError', (e) => refused.push(e.message))
      const stranger = issueTlsClientCertificate(createTlsCa(), { kind: 'user', user: A })
      expect(await talk(pem(stranger))).toMatch(/^(error .*)?$/) // never the identity
      expect(refused).toHaveLength(1) // the server drops it (TLS 1.3 reports only a reset)
      expect(await talk({ cert: '', key: '' } as never)).toMatch(/^(error .*)?$/) // no certificate at all
      expect(refused).toHaveLength(2)
    } finally {
      listener.close()
    }
  })
})
