/**
 * Test support (not exported from the package): one JSON request over HTTPS with a TLS client
 * certificate, as a User's system calls `dcc serve`. Used by tls.test.ts and the CLI's tests.
 */
import { request } from 'node:https'

export interface HttpsCall {
  url: string
  method?: string
  body?: unknown
  /** PEM: the CA the server's certificate must chain to, and the client's certificate and key. */
  ca: string
  cert?: string
  key?: string
}

/** The status and parsed JSON answer, or the connection's error code (e.g. a refused handshake). */
export function httpsJson(
  call: HttpsCall,
): Promise<{ status?: number; json?: { [key: string]: unknown }; error?: string }> {
  return new Promise((resolve) => {
    const req = request(
      call.url,
      {
        method: call.method ?? (call.body === undefined ? 'GET' : 'POST'),
        ca: call.ca,
        ...(call.cert && { cert: call.cert }),
        ...(call.key && { key: call.key }),
        agent: false,
        headers: call.body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        let text = ''
        res.on('data', (d) => {
          text += d
        })
        res.on('end', () => {
          let json: { [key: string]: unknown }
          try {
            json = JSON.parse(text)
          } catch {
            json = { text }
          }
          resolve({ status: res.statusCode ?? 0, json })
        })
      },
    )
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }))
    req.end(call.body === undefined ? undefined : JSON.stringify(call.body))
  })
}
