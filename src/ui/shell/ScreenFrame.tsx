import { useEffect, useRef, type ReactNode } from 'react';
import type { ScreenId } from './routes.ts';

/**
 * One screen. Every screen stays mounted and only the current one is shown, so leaving Contribute
 * neither stops the work nor loses a half-typed form. On navigation the title takes the focus (unless the screen took it), so
 * keyboard and screen-reader users start at the top of the new screen.
 */
export function ScreenFrame({
  id,
  title,
  active,
  focusOnShow,
  children,
}: {
  id: ScreenId;
  title: string;
  active: boolean;
  focusOnShow: boolean;
  children: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const section = useRef<HTMLElement>(null);
  useEffect(() => {
    // The tab, the history list and a screen reader's page title name the screen, not just the app.
    if (active) document.title = `${title} · Sprintnet`;
  }, [active, title]);
  useEffect(() => {
    // A screen that placed the focus itself (the glossary entry of #/help/<term>) keeps it.
    if (active && focusOnShow && !section.current?.contains(document.activeElement)) heading.current?.focus();
  }, [active, focusOnShow]);
  return (
    <section ref={section} className="screen" aria-labelledby={`screen-${id}-title`} hidden={!active} data-testid={`screen-${id}`}>
      <h2 id={`screen-${id}-title`} tabIndex={-1} ref={heading}>
        {title}
      </h2>
      {children}
    </section>
  );
}
