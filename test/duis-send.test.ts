/**
 * `smetsim duis send` against `smetsim dcc serve` as a user runs them: the server on its default,
 * mutual TLS; the request the DCC's own DUIS template for ECS45 (SR 7.4, from
 * @smartdcc/duis-templates) aimed at the PKI's device; the CLI signs it with the User's key and
 * presents the User's TLS client certificate.
 */
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const MAIN = join(import.meta.dirname, '../tools/cli/src/main.ts')
const TEMPLATE = createRequire(import.meta.url).resolve(
  '@smartdcc/duis-templates/templates/ECS45_7.4_SUCCESS_REQUEST_DUIS.XML',
)
const work = mkdtempSync(join(tmpdir(), 'smetsim-duis-send-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const smetsim = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 60_000 })

async function serve(pki: string) {
  const args = ['dcc', 'serve', '--port', '0', '--duis-http-port', '0', '--pki', pki]
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args])
  const [url, plainUrl] = await new Promise<[string, string]>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString()
      const tls = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(out)
      const plain = /DUIS alone over plain HTTP at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (tls && plain) resolve([tls[1]!, plain[1]!])
    })
    child.once('exit', (code) => reject(new Error(`dcc serve exited (${code}): ${out}`)))
  })
  return { child, url, plainUrl }
}

describe('smetsim duis send to a dcc serve on mutual TLS, and on its plain-HTTP DUIS port', () => {
  it('signs the DCC template, presents the User’s TLS certificate and prints the checked I99 answer; refuses what it cannot authenticate', async () => {
    const pki = join(work, 'pki')
    expect(smetsim(['pki', 'init', pki, '--device-count', '1']).status).toBe(0)
    // The template's target is DCC Boxed's ESME; aim it at the PKI's device.
    const file = join(work, 'ecs45.xml')
    writeFileSync(
      file,
      readFileSync(TEMPLATE, 'utf8').replace('00-DB-12-34-56-78-90-A0', '00-DB-12-00-00-00-00-01'),
    )
    const { child, url, plainUrl } = await serve(pki)
    try {
      expect(url).toMatch(/^https:/)
      const sent = smetsim(['duis', 'send', file, '--url', url, '--pki', pki])
      expect(sent.stderr).toBe('')
      const answer = JSON.parse(sent.stdout)
      // I99: acknowledged; the device's response goes to the User's endpoint (asynchronous, as DUIS).
      expect(answer).toMatchObject({ service: 'S', responseCode: 'I99', signature: 'valid' })
      // DCC Boxed's way, --duis-http-port: plain HTTP, the XML signature alone authenticates.
      const boxed = smetsim(['duis', 'send', file, '--url', plainUrl, '--pki', pki])
      expect(boxed.stderr).toBe('')
      expect(JSON.parse(boxed.stdout)).toMatchObject({ responseCode: 'I99', signature: 'valid' })
      // Plain HTTP to the mutual-TLS port gets no answer at all.
      const plain = smetsim(['duis', 'send', file, '--url', url.replace('https:', 'http:'), '--pki', pki])
      expect(plain.status).not.toBe(0)
      // A signer with no TLS client certificate in the PKI cannot even connect: said plainly.
      const stranger = smetsim([
        'duis',
        'send',
        file,
        '--url',
        url,
        '--pki',
        pki,
        '--sign-as',
        '90B3D51F30000002',
      ])
      expect(stranger.status).not.toBe(0)
      expect(stranger.stderr).toMatch(/no (XML signing key|TLS client certificate) for 90B3D51F30000002/)
    } finally {
      // It saves its estate on the way out: wait, so the folder can go.
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    }
  })
})
