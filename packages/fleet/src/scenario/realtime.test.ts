/**
 * The built-in fleet-smoke in real time over MQTT on the embedded broker (as `smetsim demo` runs
 * it), and the same file in virtual time in-process: the counts that do not depend on timing agree;
 * then over a real mosquitto (started by the test; with CI set a missing mosquitto fails).
 */
import { getBackend } from '@smetsim/gbcs'
import { describe, expect, it } from 'vitest'
import { mosquittoBroker, mosquittoPath } from '../../../hub/src/wan/brokers.test-support.ts'
import { loadScenario } from './builtin.ts'
import { runScenario } from './run.ts'

describe('a scenario in real time over MQTT', () => {
  it('fleet-smoke meets its expectations over the embedded broker, and agrees with a virtual-time run', async () => {
    const scenario = loadScenario('fleet-smoke')
    const o = { backend: getBackend(), premises: 80 }
    const live = await runScenario(scenario, o)
    expect(live.mode).toEqual({ time: 'real', speed: 720, wan: 'embedded-broker' })
    for (const e of live.expectations) expect(e, e.text).toMatchObject({ ok: true })

    const virtual = await runScenario(scenario, { ...o, speed: 'max' })
    expect(virtual.mode).toEqual({ time: 'virtual', wan: 'in-process' })
    const counts = (r: typeof live) => {
      const { readsAnswered, premisesChanged } = r.runs.smoke!.metrics
      return { readsAnswered, premisesChanged, commands: r.runs.smoke!.commands }
    }
    expect(counts(live)).toEqual(counts(virtual))
    expect(live.runs.smoke!.series.offSupply).toHaveLength(13)
  }, 90_000)
})

const mosquitto = mosquittoPath()
describe.runIf(mosquitto || process.env.CI === 'true')('a scenario in real time over mosquitto', () => {
  it('fleet-smoke with --broker mqtt://…: every request answered, every read with data', async () => {
    const broker = await mosquittoBroker(mosquitto ?? 'mosquitto-missing')
    try {
      const r = await runScenario(loadScenario('fleet-smoke'), {
        backend: getBackend(),
        premises: 40,
        wan: { broker: broker.url },
      })
      expect(r.mode).toEqual({
        time: 'real',
        speed: 720,
        wan: expect.stringMatching(/^mqtt:\/\/127\.0\.0\.1:\d+/),
      })
      for (const e of r.expectations) expect(e, e.text).toMatchObject({ ok: true })
    } finally {
      await broker.close()
    }
  }, 90_000)
})
