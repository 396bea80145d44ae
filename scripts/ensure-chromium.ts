/**
 * `npm test` runs this first (pretest): the browser test (test/client/browser.server.test.ts) drives
 * Debian's chromium at /usr/bin/chromium, which a fresh machine does not have.
 *
 * - Present: nothing to do, nothing printed.
 * - Missing, running as root (CI, containers): says so, then installs it with
 *   `apt-get update && apt-get install -y --no-install-recommends chromium`.
 * - Missing, as anyone else (a developer's machine): changes nothing and never asks for a password;
 *   prints the command to run and stops `npm test` before it spends minutes on the other tests.
 *   `npm run test:unit` needs no browser.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';
const INSTALL = ['apt-get', 'install', '-y', '--no-install-recommends', 'chromium'];

if (!existsSync(CHROMIUM)) {
  if (process.getuid?.() !== 0) {
    console.error(
      [
        `${CHROMIUM} is missing: the browser test needs Debian's chromium.`,
        `Install it yourself, then run npm test again:  sudo apt-get update && sudo ${INSTALL.join(' ')}`,
        '(npm run test:unit runs the tests that need no browser, server or emulator.)',
      ].join('\n'),
    );
    process.exit(1);
  }
  console.error(`${CHROMIUM} is missing; installing Debian's chromium for the browser test: apt-get update && ${INSTALL.join(' ')}`);
  const run = (args: string[]) => execFileSync(args[0], args.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    run(['apt-get', 'update']);
    run(INSTALL);
  } catch (error) {
    console.error(`could not install chromium (${(error as Error).message}); install it with: ${INSTALL.join(' ')}`);
    process.exit(1);
  }
}
