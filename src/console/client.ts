/**
 * The console's browser script (served at /console/client.js, compiled by the project's tsc).
 * It polls GET /console/live.json every few seconds and swaps in the sections that changed, so
 * a new draft shows up without a reload. Each section is a list of keyed items with a signature
 * of their markup: an unchanged item is left alone, and an item someone is typing in (focus, or
 * text in a field) is kept until they are done, so a half-written dismiss reason is never lost.
 * Everything else works without it: forms post and the server redirects back.
 *
 * The project compiles for Node (no DOM lib, which would change timer and fetch types for the
 * whole code base), so the few DOM parts used are declared here, for this module only.
 */

interface Node {
  readonly children: ArrayLike<Node>;
  readonly parentNode: Node | null;
  textContent: string | null;
  className: string;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  hasAttribute(name: string): boolean;
  querySelector(selector: string): Node | null;
  querySelectorAll(selector: string): ArrayLike<Node>;
  contains(other: Node | null): boolean;
  insertBefore(node: Node, ref: Node | null): Node;
  remove(): void;
  addEventListener(type: string, listener: (event: DomEvent) => void): void;
}
interface Field extends Node {
  readonly type: string;
  readonly value: string;
  /** What the page came with (a prefilled title): not something someone typed. */
  readonly defaultValue: string;
}
interface Template extends Node {
  innerHTML: string;
  readonly content: Node;
}
interface DomEvent {
  readonly target: Node | null;
}
interface Doc extends Node {
  title: string;
  readonly hidden: boolean;
  readonly activeElement: Node | null;
  createElement(tag: 'template'): Template;
}

declare const document: Doc;
declare const location: { assign(url: string): void };

/** How often the page asks for fresh sections while visible. */
const POLL_MS = 4000;
/** The longest wait between attempts while the daemon does not answer. */
const MAX_BACKOFF_MS = 30_000;
const LIVE_URL = '/console/live.json';
const SIGN_IN_URL = '/console/sign-in';

interface Live {
  readonly title: string;
  readonly sections: Record<string, string>;
}

let failures = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

function schedule(ms: number): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = setTimeout(() => void tick(), ms);
}

async function tick(): Promise<void> {
  if (document.hidden) return; // visibilitychange polls again when the tab is looked at
  try {
    const res = await fetch(LIVE_URL, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (res.status === 401) {
      // Session expired or signed out elsewhere.
      location.assign(SIGN_IN_URL);
      return;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const live = (await res.json()) as Live;
    for (const [name, html] of Object.entries(live.sections)) {
      const container = document.querySelector(`[data-live="${name}"]`);
      if (container) patch(container, html);
    }
    document.title = live.title;
    failures = 0;
    state(`Live · updated ${new Date().toLocaleTimeString()}`, false);
  } catch (err) {
    failures++;
    state(`Not updating: ${(err as Error).message}. Retrying…`, true);
  }
  relativeTimes();
  schedule(Math.min(POLL_MS * 2 ** failures, MAX_BACKOFF_MS));
}

function state(text: string, stale: boolean): void {
  const el = document.querySelector('#live-state');
  if (!el) return;
  el.textContent = text;
  el.className = stale ? 'live-state stale' : 'live-state';
}

/** Brings `container`'s keyed children in line with `html`, touching only what changed. */
function patch(container: Node, html: string): void {
  const template = document.createElement('template');
  template.innerHTML = html;
  const fresh = Array.from(template.content.children);
  const old = new Map<string, Node>();
  for (const el of Array.from(container.children)) old.set(el.getAttribute('data-key') ?? '', el);

  const wanted: Node[] = [];
  for (const el of fresh) {
    const key = el.getAttribute('data-key') ?? '';
    const prev = old.get(key);
    old.delete(key);
    if (prev && (prev.getAttribute('data-sig') === el.getAttribute('data-sig') || busy(prev))) {
      wanted.push(prev);
      continue;
    }
    if (prev) keepDisclosures(prev, el);
    wanted.push(el);
  }
  // Gone from the server's list: removed, unless someone is in the middle of typing there.
  for (const el of old.values()) {
    if (busy(el)) wanted.push(el);
    else el.remove();
  }
  wanted.forEach((el, i) => {
    const at = container.children[i] ?? null;
    if (at !== el) container.insertBefore(el, at);
  });
  for (const el of Array.from(container.children).slice(wanted.length)) el.remove();
}

/** Someone is working in this item: it has the focus, or a field with text they typed in it. */
function busy(el: Node): boolean {
  if (el.contains(document.activeElement) && document.activeElement !== null && document.activeElement.getAttribute('type') !== 'submit') {
    return true;
  }
  return Array.from(el.querySelectorAll('input,textarea'))
    .map((f) => f as Field)
    .some((f) => f.type !== 'hidden' && f.value !== f.defaultValue);
}

/** An expanded or collapsed timeline stays as the reader left it. */
function keepDisclosures(prev: Node, next: Node): void {
  for (const d of Array.from(prev.querySelectorAll('details[data-d]'))) {
    const twin = next.querySelector(`details[data-d="${d.getAttribute('data-d') ?? ''}"]`);
    if (!twin) continue;
    if (d.hasAttribute('open')) twin.setAttribute('open', '');
    else twin.removeAttribute('open');
  }
}

/** "(3 min ago)" beside absolute times, refreshed on each poll. */
function relativeTimes(): void {
  const now = Date.now();
  for (const el of Array.from(document.querySelectorAll('.ago[data-since]'))) {
    const at = Date.parse(el.getAttribute('data-since') ?? '');
    if (Number.isFinite(at)) el.textContent = `(${ago(now - at)})`;
  }
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min ago`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h ago` : `${Math.round(h / 24)} d ago`;
}

// A double click on a form's button would post twice; the second would be a 409.
document.addEventListener('submit', (event) => {
  const button = event.target?.querySelector('button[type=submit]');
  if (button) button.setAttribute('disabled', '');
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) schedule(0);
});

relativeTimes();
schedule(POLL_MS);

// A module (not a script): the DOM declarations above stay local to this file.
export {};
