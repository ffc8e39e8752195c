/** Test support (not exported from the package): temporary directories that are removed afterwards. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made: string[] = []

/** A fresh empty directory under the OS temp dir; `removeTempDirs` deletes it. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `smetsim-dcc-${prefix}-`))
  made.push(dir)
  return dir
}

/** Pass to afterAll in each test file that uses tempDir. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}
