/**
 * The table's settings, read from the environment: the part of the configuration (config.ts)
 * that opens the store door. Its own module, importing nothing, so the health function bundles
 * it without the rest of the configuration (WeChat Pay keys, the logger, the domain rules).
 */

/** A required variable's value; throws when it is unset or empty. */
export function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (v === undefined || v === '') throw new Error(`config: missing environment variable ${name}`);
  return v;
}

/** Where the table is. */
export interface StoreSettings {
  tableName: string;
  region: string;
  /** Set only on the local stack and in tests (dynalite). */
  dynamoEndpoint: string | undefined;
}

/** The table's settings (throws without `TABLE_NAME`); config.ts `loadConfig` reads them here too. */
export function loadStoreSettings(env: NodeJS.ProcessEnv = process.env): StoreSettings {
  return {
    tableName: required(env, 'TABLE_NAME'),
    region: env.AWS_REGION ?? 'ap-southeast-1',
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
  };
}

/**
 * What the health function reads, and all it reads: the stage's name as deployed (reported, not
 * checked: a health answer must not depend on a valid stage) and the table's settings. No
 * secret, so the health check answers even where a secret is missing or malformed.
 */
export function loadHealthSettings(env: NodeJS.ProcessEnv = process.env): { stage: string; store: StoreSettings } {
  return { stage: env.STAGE ?? 'unknown', store: loadStoreSettings(env) };
}
