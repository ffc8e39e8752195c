/**
 * DUIS User Roles, as the DUIS request matrix names them: IS Import Supplier, ES Export
 * Supplier, GS Gas Supplier, ED Electricity Distributor, GT Gas Transporter, RSA Registered
 * Supplier Agent, OU Other User. MP134B adds a SoLR Contingency role for Shared Resource
 * Providers; its DUIS code is not published, so `SoLRC` here is our placeholder (unconfirmed).
 */
export const DUIS_ROLES = ['IS', 'ES', 'GS', 'ED', 'GT', 'RSA', 'OU', 'SoLRC'] as const
export type DuisRole = (typeof DUIS_ROLES)[number]

export function isDuisRole(text: unknown): text is DuisRole {
  return typeof text === 'string' && (DUIS_ROLES as readonly string[]).includes(text)
}

/** Supplier roles: eligibility comes from the registered supplier of the MPxN. */
export const SUPPLIER_ROLES: readonly DuisRole[] = ['IS', 'ES', 'GS']
/** Network roles: eligibility comes from the registered network operator of the MPxN. */
export const NETWORK_ROLES: readonly DuisRole[] = ['ED', 'GT']
