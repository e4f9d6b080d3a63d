import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';

/** load config -> create app -> start -> stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  // What this process creates is its user's alone: the directories PGlite
  // makes take the umask (0700), though its files get modes of PGlite's
  // choosing (0666) and are private through the 0700 directories above them.
  process.umask(0o077);
  let loaded;
  try {
    loaded = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const { config, warnings } = loaded;
  const logger = createLogger(config.logLevel);
  for (const warning of warnings) logger.warn(warning);

  const app = createApp(config, { logger });
  try {
    await app.start();
  } catch (error) {
    logger.error('could not start', { error: error as Error, reason: (error as Error).message });
    process.exit(1);
  }
  // stdout carries one line for scripts that start the server on PORT=0.
  process.stdout.write(`Chat server ready at ${app.url}/graphql\n`);

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { signal });
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('unclean shutdown', { error: error as Error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
