/**
 * The floor under the local backend: the same number of files of the same sizes as the objects Sluice
 * wrote, written straight to disk and read back whole, with as many operations in flight as Sluice had
 * requests in flight. Two ways to write:
 *  - naive (writeFiles): write + fsync per file. Not what a durable store can do: a crash mid-write
 *    leaves a torn file under its final name, and the name itself is not durable until its directory is.
 *  - durable (writeFilesDurably): what any crash-safe file store needs per file, and what FsObjectStore
 *    does: write a temp file + fsync, rename it into place, fsync the directory. The fair bar.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { dealIntoLanes, runLanes, timed, type Timing } from './measure.ts';
import { sum } from './workload.ts';

export interface FileRun {
  readonly files: number;
  readonly bytes: number;
  readonly timing: Timing;
}

export async function writeFiles(directory: string, sizes: readonly number[], inFlight: number): Promise<FileRun> {
  const content = randomBytes(Math.max(...sizes));
  const files = sizes.map((size, i) => ({ path: join(directory, `file-${i}`), size }));
  const { timing } = await timed(() =>
    runLanes(dealIntoLanes(files, inFlight), async ({ path, size }) => {
      const handle = await open(path, 'w');
      try {
        await handle.writeFile(content.subarray(0, size));
        await handle.sync();
      } finally {
        await handle.close();
      }
    }),
  );
  return { files: files.length, bytes: sum(sizes), timing };
}

/** Per file: temp file write + fsync, rename into place, fsync of the directory (one each, unshared). */
export async function writeFilesDurably(directory: string, sizes: readonly number[], inFlight: number): Promise<FileRun> {
  const content = randomBytes(Math.max(...sizes));
  const files = sizes.map((size, i) => ({ path: join(directory, `file-${i}`), size }));
  const { timing } = await timed(() =>
    runLanes(dealIntoLanes(files, inFlight), async ({ path, size }) => {
      const temp = `${path}.tmp`;
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(content.subarray(0, size));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
      const directoryHandle = await open(directory, 'r');
      try {
        await directoryHandle.sync();
      } finally {
        await directoryHandle.close();
      }
    }),
  );
  return { files: files.length, bytes: sum(sizes), timing };
}

/** Reads back what writeFiles wrote into `directory`. */
export async function readFiles(directory: string, count: number, inFlight: number): Promise<FileRun> {
  const paths = Array.from({ length: count }, (_, i) => join(directory, `file-${i}`));
  let bytes = 0;
  const { timing } = await timed(() =>
    runLanes(dealIntoLanes(paths, inFlight), async (path) => {
      const data = await readFile(path);
      bytes += data.length;
    }),
  );
  return { files: count, bytes, timing };
}
