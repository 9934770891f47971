/**
 * The navigation between the sections of an active device (its wallets, the requests waiting for
 * it, …): a list of buttons, the current one marked for assistive technology with
 * `aria-current`, so that it reads as "where you are" rather than as one more action.
 */
export interface Section<S extends string> {
  screen: S;
  label: string;
}

export function Sections<S extends string>({
  sections,
  current,
  onGo,
}: {
  sections: readonly Section<S>[];
  current: S | null;
  onGo(screen: S): void;
}) {
  return (
    <nav aria-label="Sections" className="sections">
      <ul>
        {sections.map((section) => (
          <li key={section.screen}>
            <button
              type="button"
              className="link"
              aria-current={section.screen === current ? "page" : undefined}
              onClick={() => onGo(section.screen)}
            >
              {section.label}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
