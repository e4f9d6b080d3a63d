import type { NotificationLevel } from '../../client/index.js';
import { h } from './dom.js';
import { shortTime } from './text.js';

/**
 * What notifies the viewer in a room while they are not connected (the
 * contract's setRoomNotifications): its level, and a mute for a while or
 * until lifted; the words for them, and the room menu's Notifications panel.
 */

/** The viewer's choice in a room, as Room.notificationLevel and notificationsMutedUntil tell it. */
export interface RoomNotifications {
  level: NotificationLevel;
  /** Until when the room is silenced; null when it is not. */
  mutedUntil: string | null;
}

export const LEVEL_CHOICES: Array<[NotificationLevel, string]> = [
  ['ALL', 'All messages'],
  ['MENTIONS', 'Mentions'],
  ['NONE', 'None'],
];

/** "Until I turn it back on": the latest instant the server keeps (setRoomNotifications refuses later ones). */
export const MUTED_FOR_GOOD = '9999-12-31T23:59:59.999Z';
/** From this instant on, a mute reads as one with no end. */
const NO_END = Date.UTC(9999, 0, 1);

const HOUR = 3600;

/** Mutes offered, in seconds; null: until the user lifts it. */
export const MUTE_CHOICES: Array<[seconds: number | null, label: string]> = [
  [HOUR, '1 hour'],
  [8 * HOUR, '8 hours'],
  [24 * HOUR, '1 day'],
  [null, 'Until I turn it back on'],
];

/** The mutedUntil to send for a choice of MUTE_CHOICES. */
export function muteUntil(seconds: number | null, now = Date.now()): string {
  return seconds === null ? MUTED_FOR_GOOD : new Date(now + seconds * 1000).toISOString();
}

export const isMuted = (settings: RoomNotifications, now = Date.now()): boolean =>
  settings.mutedUntil !== null && Date.parse(settings.mutedUntil) > now;

/** "Muted until 15:30", "Muted until Tue, 3 June, 09:00", or "Muted until you turn it back on". */
export function mutedText(mutedUntil: string, now = new Date()): string {
  const until = new Date(mutedUntil);
  if (until.getTime() >= NO_END) return 'Muted until you turn it back on';
  if (until.toDateString() === now.toDateString()) return `Muted until ${shortTime(mutedUntil)}`;
  const day = until.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'long' });
  return `Muted until ${day}, ${shortTime(mutedUntil)}`;
}

/** What the level means, in a sentence. */
export function levelText(level: NotificationLevel): string {
  switch (level) {
    case 'ALL':
      return 'While you are away, every message here notifies you.';
    case 'MENTIONS':
      return 'While you are away, you are notified when someone mentions you or the room, or replies in a thread you follow.';
    case 'NONE':
      return 'This room never notifies you.';
  }
}

export interface RoomNotificationHandlers {
  onLevel(level: NotificationLevel): void;
  /** seconds null: until lifted. */
  onMute(seconds: number | null): void;
  onUnmute(): void;
}

/**
 * The Notifications panel's content: the level as three pressed-or-not
 * buttons, and the mute's choices (or, while muted, until when and Unmute).
 * Each press applies at once. null settings: not read yet.
 */
export function roomNotificationsView(
  settings: RoomNotifications | null,
  handlers: RoomNotificationHandlers,
  now = Date.now(),
): HTMLElement[] {
  if (!settings) return [h('h3', {}, 'Notifications'), h('p', { class: 'hint' }, 'Reading this room’s notifications…')];
  const muted = isMuted(settings, now);
  const button = (label: string, props: Record<string, string>, onclick: () => void) =>
    h('button', { type: 'button', class: 'secondary', ...props, onclick }, label);
  return [
    h('h3', {}, 'Notifications'),
    h('p', { class: 'hint', 'data-testid': 'notify-summary' }, levelText(settings.level)),
    h(
      'div',
      { class: 'row', role: 'group', 'aria-labelledby': 'notify-level-label' },
      h('span', { id: 'notify-level-label' }, 'Notify me of'),
      ...LEVEL_CHOICES.map(([level, label]) =>
        button(
          label,
          { 'data-testid': 'notify-level', 'data-level': level, 'aria-pressed': String(settings.level === level) },
          () => handlers.onLevel(level),
        ),
      ),
    ),
    muted
      ? h(
          'div',
          { class: 'row' },
          h('span', { 'data-testid': 'notify-muted' }, mutedText(settings.mutedUntil!, new Date(now))),
          button('Unmute', { 'data-testid': 'notify-unmute' }, () => handlers.onUnmute()),
        )
      : h(
          'div',
          { class: 'row', role: 'group', 'aria-labelledby': 'notify-mute-label' },
          h('span', { id: 'notify-mute-label' }, 'Mute'),
          ...MUTE_CHOICES.map(([seconds, label]) =>
            button(label, { 'data-testid': 'notify-mute', 'data-mute': seconds === null ? 'forever' : String(seconds) }, () =>
              handlers.onMute(seconds),
            ),
          ),
        ),
  ];
}
