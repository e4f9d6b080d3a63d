import { describe, expect, it } from 'vitest';
import {
  notificationOf,
  openTarget,
  parsePushPayload,
  pickClient,
  targetUrl,
  type ClientsLike,
  type PushPayload,
  type WindowClientLike,
} from '../../web/src/push-notification.js';
import { roomHash, roomIdFromHash } from '../../web/src/room-link.js';
import { isMuted, MUTED_FOR_GOOD, mutedText, muteUntil } from '../../web/src/room-notifications.js';

const ORIGIN = 'https://chat.example.com';

const payload = (overrides: Partial<PushPayload> = {}): PushPayload => ({
  roomId: 'r1',
  roomName: 'launch',
  count: 1,
  preview: { author: 'alice', body: 'the numbers are in' },
  url: '/#room=r1',
  ...overrides,
});

describe('the service worker’s notification of a push', () => {
  it('reads the server’s payload, and nothing else', () => {
    expect(parsePushPayload(payload())).toEqual(payload());
    expect(parsePushPayload(payload({ roomName: null }))).toEqual(payload({ roomName: null }));
    for (const other of [
      null,
      'text',
      {},
      { ...payload(), count: '3' },
      { ...payload(), preview: null },
      { ...payload(), url: 1 },
    ]) {
      expect(parsePushPayload(other)).toBeNull();
    }
  });

  it('titles it with the room’s name, or "Direct message"; the body says who wrote what, and how many more', () => {
    expect(notificationOf(payload())).toEqual({
      title: 'launch',
      options: {
        body: 'alice: the numbers are in',
        tag: 'room:r1',
        renotify: true,
        data: { url: '/#room=r1', roomId: 'r1' },
      },
    });
    const direct = notificationOf(payload({ roomName: null, count: 3 }));
    expect(direct.title).toBe('Direct message');
    expect(direct.options.body).toBe('alice: the numbers are in (and 2 more)');
    // A message of files alone has no text to preview.
    expect(notificationOf(payload({ preview: { author: 'bob', body: '' } })).options.body).toBe('bob sent a file');
  });

  it('tags it by room, so a newer push replaces the room’s older notification and not another room’s', () => {
    expect(notificationOf(payload({ count: 2 })).options.tag).toBe(notificationOf(payload()).options.tag);
    expect(notificationOf(payload({ roomId: 'r2' })).options.tag).not.toBe(notificationOf(payload()).options.tag);
  });
});

/** A site's tab as the Clients API lists it, recording what a click does to it. */
function tab(url: string, state: { focused?: boolean; visible?: boolean; controlled?: boolean } = {}) {
  const calls: string[] = [];
  const client: WindowClientLike & { calls: string[] } = {
    url,
    focused: state.focused ?? false,
    visibilityState: state.visible === false ? 'hidden' : 'visible',
    calls,
    focus: async () => {
      calls.push('focus');
      return client;
    },
    navigate: async (to) => {
      if (state.controlled === false) throw new TypeError('not controlled');
      calls.push(`navigate ${to}`);
      return client;
    },
  };
  return client;
}

function clientsOf(tabs: WindowClientLike[]) {
  const opened: string[] = [];
  const clients: ClientsLike = {
    matchAll: async (options) => {
      expect(options).toEqual({ type: 'window', includeUncontrolled: true });
      return tabs;
    },
    openWindow: async (url) => {
      opened.push(url);
      return null;
    },
  };
  return { clients, opened };
}

describe('the service worker’s click on a notification', () => {
  it('opens URLs of this site only: another origin, or none, opens its root', () => {
    expect(targetUrl('/#room=r1', ORIGIN)).toBe(`${ORIGIN}/#room=r1`);
    expect(targetUrl(`${ORIGIN}/#room=r1`, ORIGIN)).toBe(`${ORIGIN}/#room=r1`);
    expect(targetUrl('https://evil.example/#room=r1', ORIGIN)).toBe(`${ORIGIN}/`);
    expect(targetUrl('//evil.example/', ORIGIN)).toBe(`${ORIGIN}/`);
    expect(targetUrl(undefined, ORIGIN)).toBe(`${ORIGIN}/`);
  });

  it('brings up the focused tab, else one in view, else the most recently focused', () => {
    const hidden = tab(`${ORIGIN}/`, { visible: false });
    const visible = tab(`${ORIGIN}/`);
    const focused = tab(`${ORIGIN}/`, { focused: true });
    expect(pickClient([hidden, visible, focused], ORIGIN)).toBe(focused);
    expect(pickClient([hidden, visible], ORIGIN)).toBe(visible);
    expect(pickClient([hidden], ORIGIN)).toBe(hidden);
    expect(pickClient([tab('https://other.example/', { focused: true })], ORIGIN)).toBeNull();
    expect(pickClient([], ORIGIN)).toBeNull();
  });

  it('focuses the site’s open tab, then sends it to the room', async () => {
    const open = tab(`${ORIGIN}/#room=r9`, { focused: true });
    const { clients, opened } = clientsOf([open]);
    await openTarget(clients, '/#room=r1', ORIGIN);
    expect(open.calls).toEqual(['focus', `navigate ${ORIGIN}/#room=r1`]);
    expect(opened).toEqual([]);
  });

  it('only focuses a tab already showing the room', async () => {
    const open = tab(`${ORIGIN}/#room=r1`);
    const { clients } = clientsOf([open]);
    await openTarget(clients, '/#room=r1', ORIGIN);
    expect(open.calls).toEqual(['focus']);
  });

  it('opens a new window at the room when no tab of the site is open, or when the tab cannot be navigated', async () => {
    const none = clientsOf([]);
    await openTarget(none.clients, '/#room=r1', ORIGIN);
    expect(none.opened).toEqual([`${ORIGIN}/#room=r1`]);

    const uncontrolled = tab(`${ORIGIN}/`, { controlled: false });
    const stuck = clientsOf([uncontrolled]);
    await openTarget(stuck.clients, '/#room=r1', ORIGIN);
    expect(uncontrolled.calls).toEqual(['focus']);
    expect(stuck.opened).toEqual([`${ORIGIN}/#room=r1`]);
  });
});

describe('the browser client’s room link and notification settings', () => {
  it('reads the room named by #room=<id>, and nothing else', () => {
    expect(roomIdFromHash('#room=5f3a')).toBe('5f3a');
    expect(roomIdFromHash(roomHash('a b/c'))).toBe('a b/c');
    for (const other of ['', '#', '#room=', '#composer', '#room=1&x=2', '#room=%E0%A4%A']) {
      expect(roomIdFromHash(other), other).toBeNull();
    }
  });

  it('mutes for a while, or until lifted (the latest instant the server keeps)', () => {
    const now = Date.UTC(2030, 0, 1, 12);
    expect(muteUntil(3600, now)).toBe('2030-01-01T13:00:00.000Z');
    expect(muteUntil(null, now)).toBe(MUTED_FOR_GOOD);
    expect(isMuted({ level: 'ALL', mutedUntil: null }, now)).toBe(false);
    expect(isMuted({ level: 'ALL', mutedUntil: '2030-01-01T11:59:59.000Z' }, now)).toBe(false);
    expect(isMuted({ level: 'ALL', mutedUntil: MUTED_FOR_GOOD }, now)).toBe(true);
    expect(mutedText(MUTED_FOR_GOOD, new Date(now))).toBe('Muted until you turn it back on');
    expect(mutedText(new Date(now + 3600_000).toISOString(), new Date(now))).toMatch(/^Muted until \d/);
    expect(mutedText(new Date(now + 3 * 86_400_000).toISOString(), new Date(now))).toMatch(/^Muted until \D+, /);
  });
});
