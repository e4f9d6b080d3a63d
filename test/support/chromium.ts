import { existsSync } from 'node:fs';

/** Debian's Chromium (`apt-get install chromium`); .ci/run installs it. CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether the browser tests can run here; under CI a missing browser fails the run instead. */
export const chromiumPresent = existsSync(CHROMIUM);
if (!chromiumPresent && process.env.CI) throw new Error(`Chromium is missing at ${CHROMIUM}; .ci/run installs it`);

/**
 * Flags that work on a closed network (no background or update traffic).
 * playwright's launch() gives each browser a new, empty profile directory.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
