import { createServer } from 'node:net';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataDirLockedError } from './data-dir.js';
import { createLogger, logDestination } from './logger.js';
import { TrustedDocumentsError } from './transport/trusted-documents.js';

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
  const logger = createLogger(config.logLevel, {}, logDestination(config.logFormat));
  for (const warning of warnings) logger.warn(warning);

  const app = createApp(config, { logger });
  try {
    // A port in use is said at once, before the database opens (the listen after it would find it too, later).
    if (config.port !== 0) await portFree(config.port, config.host);
    await app.start();
  } catch (error) {
    // What the person starting it can fix gets one plain line and no stack; anything else is logged as it is.
    const problem = startProblem(error, config);
    if (problem) process.stderr.write(`${problem}\n`);
    else logger.error('could not start', { error: error as Error, reason: (error as Error).message });
    process.exit(1);
  }
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
  // After the handlers: a script that signals as soon as it reads the banner must not meet the default action.
  // stdout: the first line is for scripts that start the server on PORT=0 (`ready at <url>/graphql`).
  process.stdout.write(banner(app.url, config));
}

/** Resolves when the port can be listened on (and is let go again); rejects with listen's error otherwise. */
function portFree(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** The start-up failures a person fixes by changing how they start it, said in one line; null for the others. */
function startProblem(error: unknown, config: Config): string | null {
  if (error instanceof DataDirLockedError || error instanceof TrustedDocumentsError) return error.message;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const where = config.host === '0.0.0.0' || config.host === '::' ? `port ${config.port}` : `${config.host}:${config.port}`;
  if (code === 'EADDRINUSE') {
    return `${where} is in use (another chat server?); set PORT to a free port, or PORT=0 for any free one`;
  }
  if (code === 'EACCES') return `${where} needs privileges this process lacks; set PORT to 1024 or above`;
  if (code === 'EADDRNOTAVAIL')
    return `HOST ${config.host} is not an address of this machine; set HOST (0.0.0.0 for every interface)`;
  return null;
}

/** What a person starting the server reads: where the chat is, and where the API is. */
function banner(url: string, config: Config): string {
  const lines = [`Chat server ready at ${url}/graphql`];
  if (config.webDir !== null) lines.push(`  the chat in a browser:  ${url}/`);
  lines.push(`  the GraphQL API:        ${url}/graphql${config.exposure.graphiql ? ' (GraphiQL in a browser)' : ''}`);
  return `${lines.join('\n')}\n`;
}

void main();
