import type { ReactNode } from 'react';
import { glossaryEntry } from './glossary.ts';
import { screenHref } from '../shell/routes.ts';

/** A technical word linked to its glossary entry; the link's title carries the definition for a quick look. */
export function Term({ id, children }: { id: string; children?: ReactNode }) {
  const entry = glossaryEntry(id);
  if (!entry) throw new Error(`no glossary entry '${id}'`);
  return (
    <a className="term" href={screenHref('help', id)} title={entry.definition}>
      {children ?? entry.word}
    </a>
  );
}
