/**
 * Preloaded into every test process (`npm test`: `--import`). Works around nodejs/node#64833: with
 * --test-force-exit (which `npm test` uses so that nothing can hang), a test file's process exits as
 * soon as its tests are done, and on Linux its report, written to the runner through a non-blocking
 * pipe, can lose its last events: tests that ran are missing from the count (seen here: 143 of the
 * memory store suite's 192 at rc 0), and a failure's name and message can be lost (the file still
 * fails, by its exit code). With stdout blocking nothing is left queued at the exit (the idiom of the
 * pending fix, nodejs/node#64875).
 */
const handle = (process.stdout as unknown as { _handle?: { setBlocking?: (blocking: boolean) => void } })._handle;
handle?.setBlocking?.(true);
