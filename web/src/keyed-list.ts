/** One entry of a keyed list: a key that names it across renders, what it shows, and how to build it. */
export interface Item {
  key: string;
  signature: string;
  build(): HTMLElement;
}

/**
 * A list element whose children are rebuilt only where they changed (by key
 * and signature); the others stay the same elements, where they are. Inside
 * a live region that is what makes a screen reader announce only what was
 * added or changed, and it keeps focus and scroll steady.
 */
export class KeyedList {
  private readonly built = new Map<string, { signature: string; element: HTMLElement }>();

  constructor(readonly element: HTMLElement) {}

  /** The element an item was built as, if it is in the list. */
  get(key: string): HTMLElement | undefined {
    return this.built.get(key)?.element;
  }

  clear(): void {
    this.built.clear();
    this.element.replaceChildren();
  }

  /**
   * Puts the items' elements in order, building only those new or changed.
   * When an element that held the focus was rebuilt, returns its new
   * element and the data-focus-key of what had the focus in it, to give
   * focus back to.
   */
  reconcile(items: readonly Item[]): { element: HTMLElement; key: string | null } | null {
    const active = document.activeElement;
    let refocus: { element: HTMLElement; key: string | null } | null = null;
    const wanted = new Set<string>();
    const elements = items.map((item) => {
      wanted.add(item.key);
      const held = this.built.get(item.key);
      if (held && held.signature === item.signature) return held.element;
      const element = item.build();
      if (held && active && held.element.contains(active)) {
        refocus = { element, key: active.getAttribute('data-focus-key') };
      }
      this.built.set(item.key, { signature: item.signature, element });
      return element;
    });
    for (const key of this.built.keys()) if (!wanted.has(key)) this.built.delete(key);

    let cursor = this.element.firstChild;
    for (const element of elements) {
      if (element === cursor) {
        cursor = cursor.nextSibling;
        continue;
      }
      this.element.insertBefore(element, cursor);
    }
    while (cursor) {
      const next: ChildNode | null = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
    return refocus;
  }
}

/** Gives focus to the button of `element` with this data-focus-key, or to the element itself. */
export function focusIn(element: HTMLElement, key: string | null): void {
  const target = key ? element.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`) : null;
  (target ?? element).focus({ preventScroll: true });
}
