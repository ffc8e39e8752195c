/** SR 8.1.1's success test over the use-case views of the RTDS 4.5.0 8.1.1 responses (SUCCESS and ERROR). */
import { describe, expect, it } from 'vitest'
import { commissioningProblem } from './commission.ts'

const ok = { clockBase: 'success', presetAdjustingTime: 'success', adjustToPresetTime: 'success' }

describe('SR 8.1.1: did the device set its clock?', () => {
  it('ESME (ECS70): every attribute success, or not', () => {
    expect(
      commissioningProblem({
        name: 'ECS70 Set Clock',
        results: { ...ok, time: 'success', clockStatus: 'success' },
      }),
    ).toBeUndefined()
    expect(
      commissioningProblem({
        name: 'ECS70 Set Clock',
        results: { ...ok, time: 'hardware-fault', clockStatus: 'other-reason' },
      }),
    ).toBe('the ESME did not set time (hardware-fault), clockStatus (other-reason)')
  })

  it('GSME (GCS28): a reliable device time, or not', () => {
    expect(
      commissioningProblem({ name: 'GCS28 Set Clock on the GSME', deviceTimeStatus: 'reliable' }),
    ).toBeUndefined()
    expect(
      commissioningProblem({ name: 'GCS28 Set Clock on the GSME', deviceTimeStatus: 'unreliable' }),
    ).toMatch(/unreliable/)
  })

  it('no view, or one without a clock result, is not a success', () => {
    expect(commissioningProblem(undefined)).toMatch(/no use-case view/)
    expect(commissioningProblem({ name: 'ECS45' })).toMatch(/no clock result/)
  })
})
