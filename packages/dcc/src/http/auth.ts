/**
 * Who is calling the HTTP API, and what they may read.
 *
 * A real DCC User Interface authenticates every caller: the connection with a TLS certificate of
 * the DCC Key Infrastructure (DCCKI, a PKI apart from SMKI, with its own "DCCKI Interface Design
 * Specification"; its profile is not public to us: unconfirmed), and every DUIS request by its
 * XMLDSig signature (DOMAIN.md 3.3). Here the transport does it with mutual TLS: `dcc serve` asks every client for a certificate issued by the PKI's TLS CA
 * (`smetsim pki init` writes one per DCC User and one for an auditor, packages/smki tls.ts) and
 * the TLS layer refuses a connection without one or with one from another CA. `tlsAuthenticator`
 * then maps the verified certificate to its holder and refuses one on the revocation list,
 * checked on every request (so a revocation reaches open connections too).
 *
 * The caller, never the body, says who acts: POST /service-requests passes the User's EUI-64 as
 * `caller` (the pipeline refuses a request whose sender is not the caller). A User reads only its
 * own SAT records, alerts, schedules and install codes; an auditor reads every User's (and may
 * not submit: it is not a DCC User). Who besides the User may read the real Service Audit Trail,
 * and how, is not public to us (unconfirmed): the auditor is a modelling choice.
 */
import type { TLSSocket } from 'node:tls'
import type { Eui64 } from '@smetsim/core'
import { normaliseSerial, type TlsIdentity, tlsIdentityOf } from '@smetsim/smki'

/** An authenticated caller. */
export type Caller = TlsIdentity

/** Why a caller was refused, and whom its certificate names when it names someone. */
export interface Refusal {
  problem: string
  user?: Eui64
}

/** Finds the caller of a request from its connection. */
export type Authenticate = (socket: unknown) => Caller | Refusal

export const isRefusal = (c: Caller | Refusal): c is Refusal => 'problem' in c

/**
 * The caller from the TLS client certificate the connection verified (the server runs with
 * requestCert and rejectUnauthorized, so an unverified one never gets here). `revocation` is
 * asked on every request.
 */
export function tlsAuthenticator(revocation?: { isRevoked(serial: string): boolean }): Authenticate {
  return (socket) => {
    const tls = socket as Partial<TLSSocket>
    if (typeof tls.getPeerCertificate !== 'function' || !tls.authorized)
      return { problem: 'no verified TLS client certificate' }
    const certificate = tls.getPeerCertificate()
    if (!certificate?.subject) return { problem: 'no TLS client certificate' }
    const identity = tlsIdentityOf(certificate.subject)
    const user = 'problem' in identity ? undefined : identity.kind === 'user' ? identity.user : undefined
    let serial: string
    try {
      serial = normaliseSerial(certificate.serialNumber)
    } catch {
      return { problem: 'the TLS client certificate has no readable serial number' }
    }
    if (revocation?.isRevoked(serial))
      return { problem: `the TLS client certificate ${serial} is revoked`, ...(user && { user }) }
    return identity
  }
}

/** Whether the caller may read the User's records: that User itself, or an auditor. */
export function mayRead(caller: Caller | undefined, user: Eui64): boolean {
  return caller === undefined || caller.kind === 'auditor' || caller.user === user
}

/** Whether the caller may act as the User (submit, ask for or lodge an install code). */
export function mayActAs(caller: Caller | undefined, user: Eui64): boolean {
  return caller === undefined || (caller.kind === 'user' && caller.user === user)
}

/** The header every answer carries under --insecure-local (RFC 7234 warn-code 299, "miscellaneous persistent warning"). */
export const INSECURE_WARNING =
  '299 smetsim "insecure-local: callers are not authenticated, any caller may act as any User"'
