/**
 * Test support (not exported from the package): temporary directories that are removed afterwards,
 * and a schedule book to save and restore.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Eui64 } from '@smetsim/core'
import type { ScheduleBook } from './schedules/schedules.ts'

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

/** A version 2 book holding one daily SR 4.16 read of `esme` owned by `owner`, on its third run. */
export function dailyReadBook(owner: Eui64, esme: Eui64): ScheduleBook {
  return {
    version: 2,
    nextNumber: 2,
    schedules: [
      {
        scheduleId: 'DS000001',
        number: 1,
        owner,
        role: 'IS',
        request: { srv: '4.16', deviceId: esme, deviceType: 'ESME', commandVariant: 1, parameters: {} },
        frequency: 'Daily',
        startDate: '2026-01-05',
        executionTime: '13:00:00',
        createdAt: '2026-01-05T12:00:01.000Z',
        createdBy: `${owner}:${esme}:1`,
        nextRun: 3,
        nextDue: '2026-01-07T13:00:00.000Z',
      },
    ],
    counters: { [`${owner}:${esme}`]: '1767704400000000' },
  }
}
