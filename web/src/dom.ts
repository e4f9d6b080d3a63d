type Child = Node | string | null | undefined | false;
type Props = Record<string, string | number | boolean | EventListener | undefined>;

/**
 * Builds an element. Text is always set as text (never parsed as HTML), so
 * nothing a user typed can become markup. `on…` props are listeners; `data-…`,
 * `aria-…` and the rest are attributes; false or undefined leaves one out.
 */
export function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'value') (element as HTMLInputElement).value = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return element;
}

/**
 * Runs `rebuild`, which replaces what `container` holds, and gives focus back
 * to the element matching the one that had it (by the attributes named), so
 * a keyboard user is not thrown to the top of the page by a live update.
 * Choices made in selects with an id are carried over too: a presence change
 * re-rendering the members panel must not reset "Mute for 10 minutes" to the
 * first option under the moderator's hand.
 */
export function keepingFocus(container: HTMLElement, attributes: string[], rebuild: () => void): void {
  const chosen = [...container.querySelectorAll<HTMLSelectElement>('select[id]')].map(
    (select) => [select.id, select.value] as const,
  );
  const active = document.activeElement;
  const selector =
    active instanceof HTMLElement && container.contains(active)
      ? attributes
          .filter((name) => active.hasAttribute(name))
          .map((name) => `[${name}="${CSS.escape(active.getAttribute(name)!)}"]`)
          .join('')
      : '';
  rebuild();
  for (const [id, value] of chosen) {
    const select = container.querySelector<HTMLSelectElement>(`select#${CSS.escape(id)}`);
    if (select && [...select.options].some((option) => option.value === value)) select.value = value;
  }
  if (selector) container.querySelector<HTMLElement>(selector)?.focus();
}
