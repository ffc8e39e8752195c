/** Reading frames the way users have them: hex text (RTDS), base64 (DUIS XML) or raw bytes. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fromHex } from '@smetsim/core'

const FRAME_TAGS = new Set([0xdd, 0xdf])

/** Bytes of a frame from file contents, sniffing hex, then base64, then raw binary. */
export function frameBytes(raw: Buffer | string): Uint8Array {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1')
  const trimmed = text.trim()
  if (/^[0-9a-fA-F\s:-]+$/.test(trimmed) && trimmed.length > 0) return fromHex(trimmed)
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) {
    const b = Buffer.from(trimmed, 'base64')
    if (FRAME_TAGS.has(b[0] ?? -1)) return new Uint8Array(b)
  }
  if (typeof raw !== 'string' && FRAME_TAGS.has(raw[0] ?? -1)) return new Uint8Array(raw)
  throw new Error('input is neither hex, base64 nor a binary GBCS frame')
}

/** A file path, '-' for standard input, or else the argument itself as hex. */
export function readInput(arg: string): { name: string; bytes: Uint8Array } {
  if (arg === '-') return { name: '<stdin>', bytes: frameBytes(readFileSync(0)) }
  let isFile = false
  try {
    isFile = statSync(arg).isFile()
  } catch {}
  if (isFile) return { name: arg, bytes: frameBytes(readFileSync(arg)) }
  return { name: '<argument>', bytes: frameBytes(arg) }
}

/** Expands directories to the *.HEX files below them (sorted); keeps files as given. */
export function expandFiles(args: string[]): string[] {
  return args.flatMap((arg) => {
    if (!statSync(arg, { throwIfNoEntry: false })?.isDirectory()) return [arg]
    return (readdirSync(arg, { recursive: true }) as string[])
      .filter((f) => /\.hex$/i.test(f))
      .sort()
      .map((f) => join(arg, f))
  })
}
