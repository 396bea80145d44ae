/** The vendored uPlot in console/vendor/ is the very release package.json names (a development dependency). */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url));

describe('console/vendor', () => {
  it('holds uPlot exactly as node_modules/uplot ships it, at the pinned version', async () => {
    const manifest = JSON.parse((await read('package.json')).toString());
    const installed = JSON.parse((await read('node_modules/uplot/package.json')).toString());
    assert.equal(installed.version, manifest.devDependencies.uplot);
    assert.deepEqual(await read('console/vendor/uPlot.esm.js'), await read('node_modules/uplot/dist/uPlot.esm.js'), 'copy node_modules/uplot/dist/uPlot.esm.js to console/vendor/');
    assert.deepEqual(await read('console/vendor/uPlot.min.css'), await read('node_modules/uplot/dist/uPlot.min.css'), 'copy node_modules/uplot/dist/uPlot.min.css to console/vendor/');
  });
});
