/**
 * What a scenario run reports (issue 13): plain data, written as JSON by `--out` and drawn as a
 * self-contained HTML page (html.ts). The households are what is counted, not the commands.
 *
 * Everything here is the same for the same scenario, size and seed, except `generatedAt`.
 */
export interface ScenarioReport {
  /** The report format (this file). */
  version: 1
  scenario: { name: string; description: string }
  /** When the report was made (the one field that differs between two runs of the same input). */
  generatedAt: string
  fleet: {
    premises: number
    seed: string | number
    /** The fleet's start, ISO 8601; every run's virtual time starts here. */
    start: string
    /** Commissioned premises on prepayment, all Suppliers'. */
    prepaymentHouseholds: number
  }
  /**
   * The Supplier that fails, and its prepayment households: those the run figures count. Absent
   * when no Supplier fails: the figures then count every prepayment household.
   */
  failedSupplier?: { name: string; prepaymentHouseholds: number }
  /**
   * How it ran: in virtual time, or in real time with virtual time `speed` times the wall clock;
   * and the WAN: `in-process`, `embedded-broker` (aedes), or an external broker (its URL, no
   * user or password).
   */
  mode: { time: 'virtual' | 'real'; speed?: number; wan: string }
  /** Virtual time simulated in each run, ms. */
  durationMs: number
  /** The top-up habit parameters the households were drawn with (the fleet spec's `topUp`). */
  habits: Record<string, unknown>
  /**
   * One run per control setting, in the order run, keyed by the setting's name (`baseline`,
   * `mp134a`, `mp134a+mp185`, `mp134b` for the built-in SoLR scenario).
   */
  runs: Record<string, RunReport>
  /** The scenario's expectations, each checked against the runs. */
  expectations: ExpectationResult[]
}

/**
 * One setting's run. The household figures count the failed Supplier's prepayment households: a
 * household is off supply while any of its meters in prepayment mode has its supply disabled or
 * armed (waiting for the button), as found at each sample.
 */
export interface RunReport {
  /** A sentence on what this setting does (shown in the report). */
  description: string
  /** Σ over the samples after the start of households off supply × the sample interval, in hours. */
  householdHoursOffSupply: number
  /** Households off supply at some sample. */
  householdsDisconnected: number
  /** Households off supply at the end. */
  householdsOffAtEnd: number
  /**
   * Households off supply over time, sampled every `intervalMs` from the start: `offSupply[i]`
   * at `start + i × intervalMs`.
   */
  series: { intervalMs: number; offSupply: number[] }
  /**
   * The same household-hours for the other Suppliers' prepayment households, whose Suppliers go
   * on answering: what the fleet's top-up habits give without a failure, to read the above against.
   */
  othersHouseholdHoursOffSupply: number
  /** Service Requests the scenario's actors sent, by SRV and then DUIS response code. */
  commands: Record<string, Record<string, number>>
  /** Alerts the DCC received from devices, by the User they were for (a name where known). */
  alerts: Record<string, number>
  /** Top-ups the households tried, were refused (no answer), and that the meter accepted. */
  topUps: { attempts: number; unanswered: number; accepted: number; rejected: number }
  /**
   * What the scenario's parts counted (part.ts `metrics`: each part's module says what each is),
   * and `requestsUnanswered`: requests the scenario's actors sent with no answer when the run
   * ended (after an hour more of virtual time, or `settleMs` of wall time in real time).
   */
  metrics: Record<string, number>
}

export interface ExpectationResult {
  /** The expectation as written, e.g. `mp134b.householdsDisconnected <= baseline.householdsDisconnected`. */
  text: string
  ok: boolean
  /** The values compared, as found. */
  actual: Record<string, number>
}
