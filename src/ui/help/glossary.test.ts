import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GLOSSARY, glossaryEntry } from './glossary.ts';

const UI = new URL('..', import.meta.url).pathname;

function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsxFiles(join(dir, e.name)) : e.name.endsWith('.tsx') ? [join(dir, e.name)] : [],
  );
}

describe('glossary', () => {
  it('ids are unique and every entry says something', () => {
    expect(new Set(GLOSSARY.map((e) => e.id)).size).toBe(GLOSSARY.length);
    for (const e of GLOSSARY) {
      expect(e.definition.length, e.id).toBeGreaterThan(40);
      expect(e.word.length, e.id).toBeGreaterThan(0);
    }
  });

  it('every <Term id> used on a screen has an entry (a missing one would throw while rendering)', () => {
    const used = new Set<string>();
    for (const file of tsxFiles(UI)) {
      for (const [, id = ''] of readFileSync(file, 'utf8').matchAll(/<Term id="([^"]+)"/g)) used.add(id);
    }
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((id) => !glossaryEntry(id))).toEqual([]);
  });

  it('the words the issue names are explained', () => {
    for (const id of ['weight', 'sprint', 'epoch', 'cu', 'validation', 'nonce', 'proof', 'certificate', 'reputation', 'relay'])
      expect(glossaryEntry(id), id).toBeDefined();
  });
});
