/**
 * Registration Data and the Smart Metering Inventory on disk: one JSON file holding both
 * snapshots, rewritten atomically (write a temporary file, fsync, rename) on every save.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { type InventorySnapshot, SmartMeteringInventory } from './inventory.ts'
import { RegistrationData, type RegistrationSnapshot } from './registration.ts'

export interface RegistrationFile {
  version: 1
  registration: RegistrationSnapshot
  inventory: InventorySnapshot
}

/** Reads the file at `path`, or starts empty if there is none. Throws an Error naming a corrupt file. */
export function loadRegistrationFile(path: string): {
  registration: RegistrationData
  inventory: SmartMeteringInventory
} {
  if (!existsSync(path))
    return { registration: new RegistrationData(), inventory: new SmartMeteringInventory() }
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as RegistrationFile
    if (data?.version !== 1) throw new Error('expected { version: 1, registration, inventory }')
    return {
      registration: new RegistrationData(data.registration),
      inventory: new SmartMeteringInventory(data.inventory),
    }
  } catch (e) {
    throw new Error(`registration file ${path} is corrupt: ${(e as Error).message}`)
  }
}

export function saveRegistrationFile(
  path: string,
  sources: { registration: RegistrationData; inventory: SmartMeteringInventory },
): void {
  const data: RegistrationFile = {
    version: 1,
    registration: sources.registration.snapshot(),
    inventory: sources.inventory.snapshot(),
  }
  const temp = `${path}.${process.pid}.tmp`
  const fd = openSync(temp, 'w')
  try {
    writeSync(fd, `${JSON.stringify(data, null, 2)}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
}
