/**
 * The DCC's side of the WAN, the same whatever carries it (in-process.ts, mqtt.ts): send GBCS to
 * the hub serving a device and wait for its response, hear device alerts, and SR 8.11 in the
 * DCC's in-process form. `send` fits packages/dcc's `DccConfig.transport` once the caller knows
 * the device's hub, and `addDevice` fits its `HanDeviceLogTransport` structurally.
 */
import type { Eui64 } from '@smetsim/core'

export interface HanDeviceLogRequest {
  deviceId: Eui64
  deviceType: string
  installCode: Uint8Array
  /** Seconds (DUIS JoinTimePeriod, 1–3600); default 3600. */
  joinTimeout?: number
}

export interface HanDeviceLogResult {
  accepted: boolean
  joined?: boolean
  reason?: string
}

export interface HeadEnd {
  /**
   * GBCS bytes to the hub `commsHub`; resolves with the response, or undefined when none comes
   * (the hub dropped it, the device answered nothing, or no response within the time-out).
   */
  send(commsHub: Eui64, gbcs: Uint8Array): Promise<Uint8Array | undefined>
  /** SR 8.11 add (CCS01 in the DCC's in-process form). */
  addDevice(commsHub: Eui64, entry: HanDeviceLogRequest): Promise<HanDeviceLogResult>
  /** Device, CHF and GPF alerts as they arrive (each once). */
  onAlert(listener: (alert: { commsHub: Eui64; from: Eui64; bytes: Uint8Array }) => void): void
  close(): Promise<void>
}
