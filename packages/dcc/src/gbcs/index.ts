/**
 * GBCS command construction at the DCC: Service Request → use case and view → Pre-Command →
 * the originator's signature (Critical) → the ACB's MAC.
 */
export * from './construct.ts'
export * from './service-requests.ts'
