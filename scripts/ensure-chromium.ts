/**
 * `npm test` runs this first (pretest): the browser test drives Debian's chromium, which a fresh
 * machine does not have. Installs it with apt-get when missing (as root, or through sudo).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) =>
    execFileSync(asRoot ? args[0] : 'sudo', asRoot ? args.slice(1) : args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  console.error(`${CHROMIUM} is missing; installing Debian's chromium for the browser test`);
  try {
    run(['apt-get', 'update']);
    run(['apt-get', 'install', '-y', '--no-install-recommends', 'chromium']);
  } catch (error) {
    console.error(`could not install chromium (${(error as Error).message}); install it with: sudo apt-get install -y chromium`);
    process.exit(1);
  }
}
