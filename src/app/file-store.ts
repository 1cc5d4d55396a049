/**
 * `ProtocolStore` in a directory, for the headless host (Node only: imports node:fs). One file per
 * key, named by the key with '/' → '__' (keys are [a-z0-9/_-] and hex); writes go to a temporary
 * file and are renamed into place, so a crash never leaves half a value.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProtocolStore } from '../protocol/interfaces.ts';

const SAFE_KEY = /^[a-z0-9/_-]+$/;

function fileName(key: string): string {
  if (!SAFE_KEY.test(key) || key.includes('__')) throw new RangeError(`store key '${key}' is not [a-z0-9/_-]`);
  return key.replaceAll('/', '__');
}

export async function fileStore(dir: string): Promise<ProtocolStore> {
  await mkdir(dir, { recursive: true });
  let seq = 0;
  return {
    async get(key) {
      try {
        return new Uint8Array(await readFile(join(dir, fileName(key))));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async put(key, value) {
      const target = join(dir, fileName(key));
      const tmp = `${target}.tmp-${process.pid}-${seq++}`;
      await writeFile(tmp, value);
      await rename(tmp, target);
    },
    async delete(key) {
      await rm(join(dir, fileName(key)), { force: true });
    },
    async keys(prefix) {
      const names = await readdir(dir);
      return names
        .filter((n) => !n.includes('.tmp-'))
        .map((n) => n.replaceAll('__', '/'))
        .filter((k) => k.startsWith(prefix))
        .sort();
    },
  };
}
