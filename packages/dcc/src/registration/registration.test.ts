import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { removeTempDirs, tempDir } from '../testing.ts'
import { isEligibleUser } from './eligibility.ts'
import { SMI_TRANSITIONS, SmartMeteringInventory, transitionProblem } from './inventory.ts'
import { fuelOf, RegistrationData, RegistrationError } from './registration.ts'
import { loadRegistrationFile, saveRegistrationFile } from './store.ts'

afterAll(removeTempDirs)

const SUPPLIER_A = '90B3D51F30010000' // losing supplier, MPIDs AAAA (electricity) and AGAS (gas)
const SUPPLIER_B = '90B3D51F30030000' // gaining supplier, MPID BBBB
const SOLR = '90B3D51F300A0000'
const NETWORK = '90B3D51F30020000' // DNO MPID DNO1 and gas transporter MPID GTR1
const MPAN = '1200000000001'
const EXPORT_MPAN = '1200000000002'
const MPRN = '7000000001'
const ESME = '00DB120000000001'
const GSME = '00DB120000000002'
const CHF = '00DB120000000010'
const GPF = '00DB120000000011'
const PPMID = '00DB120000000020'
const SSD = '2026-03-01' // Supply Start Date of the Change of Supplier

function estate() {
  const registration = new RegistrationData()
  registration.assignMpid('AAAA', SUPPLIER_A, '2020-01-01')
  registration.assignMpid('AGAS', SUPPLIER_A, '2020-01-01')
  registration.assignMpid('BBBB', SUPPLIER_B, '2020-01-01')
  registration.assignMpid('DNO1', NETWORK, '2020-01-01')
  registration.assignMpid('GTR1', NETWORK, '2020-01-01')
  registration.registerSupplier(MPAN, 'AAAA', '2024-01-01')
  registration.registerSupplier(EXPORT_MPAN, 'BBBB', '2024-01-01')
  registration.registerSupplier(MPRN, 'AGAS', '2024-01-01')
  registration.registerNetworkOperator(MPAN, 'DNO1', '2020-01-01')
  registration.registerNetworkOperator(MPRN, 'GTR1', '2020-01-01')

  const inventory = new SmartMeteringInventory()
  const at = '2024-01-02'
  inventory.add({ deviceId: CHF, type: 'CHF', at })
  inventory.add({ deviceId: GPF, type: 'GPF', commsHub: CHF, at })
  inventory.add({ deviceId: ESME, type: 'ESME', mpxn: MPAN, exportMpan: EXPORT_MPAN, commsHub: CHF, at })
  inventory.add({ deviceId: GSME, type: 'GSME', mpxn: MPRN, commsHub: CHF, at })
  inventory.add({ deviceId: PPMID, type: 'PPMID', commsHub: CHF, at })
  return { registration, inventory }
}

describe('Registration Data', () => {
  it('tells electricity from gas by the MPxN', () => {
    expect(fuelOf(MPAN)).toBe('electricity')
    expect(fuelOf(MPRN)).toBe('gas')
    expect(() => fuelOf('12AB')).toThrow(RegistrationError)
    expect(() => new RegistrationData().registerSupplier('123', 'AAAA', '2024-01-01')).toThrow(/not an MPAN/)
    expect(() => new RegistrationData().registerSupplier(MPAN, 'a b', '2024-01-01')).toThrow(
      /market participant/,
    )
    expect(() => new RegistrationData().registerSupplier(MPAN, 'AAAA', 'someday')).toThrow(/not a time/)
  })

  it('answers the registered supplier and network operator at a time, with the MPID owner', () => {
    const { registration } = estate()
    expect(registration.registeredSupplierAt(MPAN, '2023-12-31T23:59:59Z')).toBeUndefined()
    expect(registration.registeredSupplierAt(MPAN, '2024-06-01')).toEqual({
      mpxn: MPAN,
      mpid: 'AAAA',
      from: '2024-01-01T00:00:00.000Z',
      user: SUPPLIER_A,
    })
    expect(registration.networkOperatorAt(MPRN, new Date('2025-01-01'))).toMatchObject({
      mpid: 'GTR1',
      user: NETWORK,
    })
    expect(registration.registeredSupplierAt('1299999999999', '2025-01-01')).toBeUndefined()
  })

  it('makes a Change of Supplier a new registration from the Supply Start Date', () => {
    const { registration } = estate()
    registration.changeOfSupplier(MPAN, 'BBBB', SSD)
    expect(registration.registeredSupplierAt(MPAN, '2026-02-28T23:59:59.999Z')?.user).toBe(SUPPLIER_A)
    expect(registration.registeredSupplierAt(MPAN, SSD)?.user).toBe(SUPPLIER_B)
    expect(registration.registeredSupplierAt(MPAN, '2027-01-01')).toMatchObject({
      mpid: 'BBBB',
      from: '2026-03-01T00:00:00.000Z',
    })
    expect(() => registration.changeOfSupplier(MPAN, 'BBBB', '2026-04-01')).toThrow(/already its supplier/)
    expect(() => registration.changeOfSupplier(MPAN, 'AAAA', '2023-01-01')).toThrow(/no registered supplier/)
    // a registration received late is put in date order; one with the same date corrects the old one
    registration.registerSupplier(MPAN, 'AGAS', '2025-01-01')
    expect(registration.registeredSupplierAt(MPAN, '2025-06-01')?.mpid).toBe('AGAS')
    registration.registerSupplier(MPAN, 'AAAA', '2025-01-01')
    expect(registration.meteringPoint(MPAN)?.suppliers.map((s) => s.mpid)).toEqual(['AAAA', 'AAAA', 'BBBB'])
  })

  it('moves every MPxN of an MPID with an MPID transfer (SoLR), from its effective time', () => {
    const { registration } = estate()
    expect(registration.mpidsOfUserAt(SUPPLIER_A, '2026-01-01')).toEqual(['AAAA', 'AGAS'])
    registration.transferMpid('AAAA', SOLR, '2026-05-10T12:00:00Z')
    expect(registration.mpidOwnerAt('AAAA', '2026-05-10T11:59:59Z')).toBe(SUPPLIER_A)
    expect(registration.mpidOwnerAt('AAAA', '2026-05-10T12:00:00Z')).toBe(SOLR)
    expect(registration.registeredSupplierAt(MPAN, '2026-06-01')).toMatchObject({ mpid: 'AAAA', user: SOLR })
    expect(registration.mpidsOfUserAt(SUPPLIER_A, '2026-06-01')).toEqual(['AGAS'])
    expect(() => registration.transferMpid('AAAA', SOLR, '2026-07-01')).toThrow(/already belongs/)
    expect(() => registration.transferMpid('ZZZZ', SOLR, '2026-07-01')).toThrow(/no owner/)
    // a registered MPID nobody owns resolves to no User
    registration.registerSupplier(MPAN, 'NOWN', '2027-01-01')
    expect(registration.registeredSupplierAt(MPAN, '2027-02-01')).toEqual({
      mpxn: MPAN,
      mpid: 'NOWN',
      from: '2027-01-01T00:00:00.000Z',
    })
  })

  it('round-trips through a plain-JSON snapshot', () => {
    const { registration } = estate()
    registration.changeOfSupplier(MPAN, 'BBBB', SSD)
    const snapshot = JSON.parse(JSON.stringify(registration.snapshot()))
    const copy = new RegistrationData(snapshot)
    expect(copy.snapshot()).toEqual(registration.snapshot())
    expect(copy.registeredSupplierAt(MPAN, '2026-03-02')?.user).toBe(SUPPLIER_B)
    expect(() => new RegistrationData({ version: 2 } as never)).toThrow(/version: 1/)
  })
})

describe('Smart Metering Inventory', () => {
  it('follows the commissioning line Pending → Whitelisted → InstalledNotCommissioned → Commissioned', () => {
    const { inventory } = estate()
    expect(inventory.get(ESME)?.status).toBe('Pending')
    inventory.setStatus(ESME, 'Whitelisted', '2024-01-03')
    inventory.setStatus(ESME, 'InstalledNotCommissioned', '2024-01-03T01:00:00Z')
    const record = inventory.setStatus(ESME, 'Commissioned', '2024-01-04')
    expect(record).toMatchObject({ status: 'Commissioned', statusSince: '2024-01-04T00:00:00.000Z' })
    inventory.setStatus(ESME, 'Decommissioned', '2025-01-01')
    expect(() => inventory.setStatus(ESME, 'Commissioned', '2025-01-02')).toThrow(
      /device 00DB120000000001 \(ESME\): SMI status Decommissioned → Commissioned is not allowed \(from Decommissioned: none, it is final\)/,
    )
  })

  it('refuses every change the transition table does not list, and leaves the status alone', () => {
    const { inventory } = estate()
    expect(() => inventory.setStatus(ESME, 'Commissioned', '2024-02-01')).toThrow(
      /Pending → Commissioned is not allowed \(from Pending: Whitelisted, InstalledNotCommissioned, Withdrawn\)/,
    )
    expect(inventory.get(ESME)?.status).toBe('Pending')
    expect(() => inventory.setStatus(ESME, 'InstalledNotCommissioned', '2024-02-01')).toThrow(
      /must be Whitelisted/,
    )
    expect(() => inventory.setStatus(CHF, 'Whitelisted', '2024-02-01')).toThrow(/never Whitelisted/)
    inventory.setStatus(CHF, 'InstalledNotCommissioned', '2024-02-01') // a hub goes straight to installed
    expect(() => inventory.setStatus(ESME, 'Broken' as never, '2024-02-01')).toThrow(/unknown SMI status/)
    expect(() => inventory.setStatus('00DB12FFFFFFFFFF', 'Whitelisted', '2024-02-01')).toThrow(
      /not in the inventory/,
    )
    // the table and the check agree for a meter in every pair of statuses (Pending → INC aside)
    const statuses = Object.keys(SMI_TRANSITIONS) as (keyof typeof SMI_TRANSITIONS)[]
    for (const from of statuses)
      for (const to of statuses) {
        const listed =
          SMI_TRANSITIONS[from].includes(to) && !(from === 'Pending' && to === 'InstalledNotCommissioned')
        expect(transitionProblem('ESME', from, to) === undefined, `${from} → ${to}`).toBe(listed)
      }
  })

  it('keeps install codes as 16 bytes of upper-case hex, and refuses duplicates and bad fields', () => {
    const inventory = new SmartMeteringInventory()
    const record = inventory.add({
      deviceId: '00-db-12-00-00-00-00-05',
      type: 'ESME',
      installCode: '00112233445566778899aabbccddeeff',
      installingSupplier: SUPPLIER_A,
      at: '2024-01-01',
    })
    expect(record).toMatchObject({
      deviceId: '00DB120000000005',
      installCode: '00112233445566778899AABBCCDDEEFF',
    })
    expect(() => inventory.add({ deviceId: '00DB120000000005', type: 'ESME', at: '2024-01-01' })).toThrow(
      /already/,
    )
    expect(() => inventory.update('00DB120000000005', { installCode: '0011' })).toThrow(/16 bytes, got 2/)
    expect(() =>
      inventory.add({ deviceId: '00DB120000000006', type: 'ESME', installCode: 'zz', at: '2024-01-01' }),
    ).toThrow(/install code/)
    expect(inventory.get('00DB120000000006')).toBeUndefined() // nothing half-added
    expect(() =>
      inventory.add({ deviceId: '00DB120000000007', type: 'TOASTER' as never, at: '2024-01-01' }),
    ).toThrow(/device type/)
    expect(() => inventory.update('00DB120000000005', { mpxn: '12' })).toThrow(/MPAN or MPRN/)
  })

  it('finds devices by MPxN and by hub, and round-trips through a snapshot', () => {
    const { inventory } = estate()
    expect(inventory.devicesAt(MPAN).map((d) => d.deviceId)).toEqual([ESME])
    expect(inventory.devicesAt(EXPORT_MPAN).map((d) => d.deviceId)).toEqual([ESME])
    expect(inventory.devicesOnHub(CHF).map((d) => d.type)).toEqual(['GPF', 'ESME', 'GSME', 'PPMID'])
    inventory.setStatus(GSME, 'Whitelisted', '2024-05-01')
    const copy = new SmartMeteringInventory(JSON.parse(JSON.stringify(inventory.snapshot())))
    expect(copy.snapshot()).toEqual(inventory.snapshot())
    expect(
      () =>
        new SmartMeteringInventory({
          version: 1,
          devices: [{ ...inventory.get(ESME)!, status: 'Lost' as never }],
        }),
    ).toThrow(/unknown SMI status 'Lost'/)
  })

  it('answers devicesOnHub and devicesAt as a scan of the whole inventory would, through moves and refused adds', () => {
    // The lookups are indexed (inventory.ts Index); the reference is the scan they replaced.
    const inventory = new SmartMeteringInventory()
    const hubs = ['00DB1200000000A0', '00DB1200000000A1', '00DB1200000000A2']
    const mpxns = ['1200000000101', '1200000000102', '7000000101']
    let seed = 7
    const pick = <T>(xs: readonly T[]): T => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return xs[seed % xs.length]!
    }
    const ids: string[] = []
    for (let step = 0; step < 400; step++) {
      const op = pick(['add', 'add-bad', 'hub', 'mpxn', 'export'] as const)
      if (op === 'add' || ids.length === 0) {
        const deviceId = `00DB12000000${(0x1000 + ids.length).toString(16).toUpperCase()}`
        inventory.add({
          deviceId,
          type: pick(['ESME', 'GSME', 'PPMID'] as const),
          commsHub: pick(hubs),
          mpxn: pick(mpxns),
          at: '2024-01-01',
        })
        ids.push(deviceId)
      } else if (op === 'add-bad') {
        const deviceId = `00DB12000000${(0x1000 + ids.length).toString(16).toUpperCase()}`
        expect(() =>
          inventory.add({ deviceId, type: 'ESME', commsHub: pick(hubs), mpxn: '12', at: '2024-01-01' }),
        ).toThrow(/MPAN or MPRN/)
      } else if (op === 'hub') inventory.update(pick(ids), { commsHub: pick(hubs) })
      else if (op === 'mpxn') inventory.update(pick(ids), { mpxn: pick(mpxns) })
      else inventory.update(pick(ids), { exportMpan: pick(mpxns) })
      const all = inventory.snapshot().devices
      for (const hub of hubs)
        expect(inventory.devicesOnHub(hub)).toEqual(all.filter((d) => d.commsHub === hub))
      for (const mpxn of mpxns)
        expect(inventory.devicesAt(mpxn)).toEqual(all.filter((d) => d.mpxn === mpxn || d.exportMpan === mpxn))
    }
    expect(inventory.size).toBe(ids.length)
  })
})

describe('Eligible User (E4)', () => {
  it('before the Supply Start Date only the losing supplier is eligible, from it only the gaining one', () => {
    const sources = estate()
    sources.registration.changeOfSupplier(MPAN, 'BBBB', SSD)
    const before = '2026-02-28T23:59:59Z'
    expect(isEligibleUser(sources, SUPPLIER_A, 'IS', ESME, before)).toMatchObject({
      eligible: true,
      registration: { mpid: 'AAAA' },
    })
    expect(isEligibleUser(sources, SUPPLIER_B, 'IS', ESME, before)).toMatchObject({
      eligible: false,
      code: 'E4',
    })
    expect(isEligibleUser(sources, SUPPLIER_A, 'IS', ESME, SSD)).toMatchObject({
      eligible: false,
      code: 'E4',
    })
    expect(isEligibleUser(sources, SUPPLIER_B, 'IS', ESME, SSD)).toMatchObject({
      eligible: true,
      registration: { mpid: 'BBBB' },
    })
    const refusal = isEligibleUser(sources, SUPPLIER_A, 'IS', ESME, '2026-04-01')
    expect(refusal).toEqual({
      eligible: false,
      code: 'E4',
      reason: `User ${SUPPLIER_A} is not the registered supplier of device ${ESME} at 2026-04-01T00:00:00.000Z: ${MPAN} → BBBB (${SUPPLIER_B})`,
    })
    // the gas meter is not part of this CoS
    expect(isEligibleUser(sources, SUPPLIER_A, 'GS', GSME, '2026-04-01').eligible).toBe(true)
  })

  it('matches the role to the fuel and to the import or export MPAN', () => {
    const sources = estate()
    const at = '2025-01-01'
    expect(isEligibleUser(sources, SUPPLIER_A, 'GS', ESME, at)).toMatchObject({
      eligible: false,
      reason: /no gas MPxN/,
    })
    expect(isEligibleUser(sources, SUPPLIER_A, 'IS', GSME, at)).toMatchObject({
      eligible: false,
      reason: /no electricity MPxN/,
    })
    expect(isEligibleUser(sources, SUPPLIER_B, 'ES', ESME, at).eligible).toBe(true)
    expect(isEligibleUser(sources, SUPPLIER_B, 'IS', ESME, at).eligible).toBe(false)
    expect(isEligibleUser(sources, SUPPLIER_A, 'ES', ESME, at).eligible).toBe(false)
  })

  it('checks network roles against the network operator registration', () => {
    const sources = estate()
    const at = '2025-01-01'
    expect(isEligibleUser(sources, NETWORK, 'ED', ESME, at)).toMatchObject({
      eligible: true,
      registration: { mpid: 'DNO1' },
    })
    expect(isEligibleUser(sources, NETWORK, 'GT', GSME, at)).toMatchObject({
      eligible: true,
      registration: { mpid: 'GTR1' },
    })
    expect(isEligibleUser(sources, NETWORK, 'IS', ESME, at).eligible).toBe(false)
    expect(isEligibleUser(sources, SUPPLIER_A, 'ED', ESME, at)).toMatchObject({
      eligible: false,
      reason: /network operator/,
    })
  })

  it('follows an MPID transfer: the SoLR becomes eligible and the failed supplier is not', () => {
    const sources = estate()
    sources.registration.transferMpid('AAAA', SOLR, '2026-05-10')
    expect(isEligibleUser(sources, SUPPLIER_A, 'IS', ESME, '2026-05-09').eligible).toBe(true)
    expect(isEligibleUser(sources, SUPPLIER_A, 'IS', ESME, '2026-05-10').eligible).toBe(false)
    expect(isEligibleUser(sources, SOLR, 'IS', ESME, '2026-05-10').eligible).toBe(true)
  })

  it('takes the MPxNs of the meters on the hub for CHF, GPF and PPMID', () => {
    const sources = estate()
    const at = '2025-01-01'
    for (const device of [CHF, GPF, PPMID]) {
      expect(isEligibleUser(sources, SUPPLIER_A, 'IS', device, at).eligible, device).toBe(true)
      expect(isEligibleUser(sources, SUPPLIER_A, 'GS', device, at).eligible, device).toBe(true)
      expect(isEligibleUser(sources, SUPPLIER_B, 'GS', device, at).eligible, device).toBe(false)
    }
    sources.inventory.add({ deviceId: '00DB120000000099', type: 'IHD', at }) // on no hub
    expect(isEligibleUser(sources, SUPPLIER_A, 'IS', '00DB120000000099', at)).toMatchObject({
      eligible: false,
      code: 'E4',
    })
  })

  it('answers E19 for an unknown device and E4 for roles without registration-based eligibility', () => {
    const sources = estate()
    expect(isEligibleUser(sources, SUPPLIER_A, 'IS', '00DB12FFFFFFFFFF', '2025-01-01')).toMatchObject({
      eligible: false,
      code: 'E19',
    })
    for (const role of ['RSA', 'OU', 'SoLRC'] as const)
      expect(isEligibleUser(sources, SUPPLIER_A, role, ESME, '2025-01-01')).toMatchObject({
        eligible: false,
        code: 'E4',
        reason: `role ${role} has no eligibility from Registration Data`,
      })
  })
})

describe('registration file', () => {
  it('saves both snapshots atomically and loads them back; a missing file is empty, a bad one named', () => {
    const dir = tempDir('registration')
    const path = join(dir, 'registration.json')
    expect(loadRegistrationFile(path).inventory.size).toBe(0)
    const sources = estate()
    sources.registration.changeOfSupplier(MPAN, 'BBBB', SSD)
    saveRegistrationFile(path, sources)
    const loaded = loadRegistrationFile(path)
    expect(loaded.registration.snapshot()).toEqual(sources.registration.snapshot())
    expect(loaded.inventory.snapshot()).toEqual(sources.inventory.snapshot())
    expect(isEligibleUser(loaded, SUPPLIER_B, 'IS', ESME, SSD).eligible).toBe(true)
    expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(1)
    writeFileSync(path, '{"version":1,"registration":')
    expect(() => loadRegistrationFile(path)).toThrow(/registration file .* is corrupt/)
  })
})
