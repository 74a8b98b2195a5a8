/**
 * A PostgreSQL schema name pacshift accepts (an unquoted lower-case identifier, at most 63 bytes):
 * the state store's schema (state/postgres.ts) and the plan's `state.postgres` `?schema=` (plan/).
 */
export const PG_SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
