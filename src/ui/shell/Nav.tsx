import { SCREENS, screenHref, type ScreenId } from './routes.ts';

/** The screens as links: Tab reaches them, Enter opens one, and the current one is marked for screen readers. */
export function Nav({ current }: { current: ScreenId }) {
  return (
    <nav className="nav" aria-label="Screens">
      <ul>
        {SCREENS.map((s) => (
          <li key={s.id}>
            <a href={screenHref(s.id)} aria-current={s.id === current ? 'page' : undefined} data-testid={`nav-${s.id}`}>
              {s.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
