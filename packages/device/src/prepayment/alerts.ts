/** GBCS device alert codes raised or reported by the prepayment engine (DOMAIN section 6). */
export const Alert = {
  /** Combined credit below the Low Credit Threshold (rule 2). */
  lowCredit: 0x810d,
  /** Emergency Credit available (rule 3). */
  emergencyCreditAvailable: 0x8119,
  /** Emergency Credit activated (rule 4). */
  emergencyCreditActivated: 0x81ab,
  /** Emergency Credit exhausted (rule 5). */
  emergencyCreditExhausted: 0x81aa,
  /** Supply Disabled then Armed by Emergency Credit activation (rule 4). */
  disabledThenArmed: 0x8168,
  /** Credit below the Disablement Threshold (rule 6). */
  belowDisablementThreshold: 0x8f0f,
  /** Disablement suspended by a non-disablement period (rule 6). */
  disablementSuspended: 0x8f83,
  /** Supply Armed (auto-arm after a sufficient top-up, rule 7). */
  supplyArmed: 0x8f32,
  /** Top-up rejected: above the Max Credit Threshold (rule 7). */
  topUpAboveMaxCredit: 0x8f5b,
  /** Top-up rejected: would exceed the Max Meter Balance (rule 7). */
  topUpExceedsMaxBalance: 0x8f47,
  /** Time Debt Register 1 cleared (rule 8). */
  timeDebt1Cleared: 0x81a7,
  /** Time Debt Register 2 cleared (rule 8). */
  timeDebt2Cleared: 0x81a8,
  /** Accumulated (payment-based) Debt Register cleared (rule 8). */
  accumulatedDebtCleared: 0x81a9,
} as const
