import type { ReportReason, UserFieldsFragment } from '../../client/index.js';
import { fileSize, fitWithin, isImage, type Attachment, type OutgoingFile } from './attachments.js';
import { h } from './dom.js';
import { REPORT_REASONS } from './moderation.js';
import type { OutgoingMessage } from './outbox.js';
import { excerpt, fullDate, linkify, shortTime, textOf } from './text.js';
import type { Message } from './timeline.js';

/** The picker's emoji: the common ones, each one grapheme as addReaction takes it. */
export const PICKER_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];

/** What a message shows besides its content, decided by the list. */
export interface MessageLook {
  /** Same author as the message above, shortly after it: no name and time of its own. */
  grouped: boolean;
  mine: boolean;
  /** The viewer may delete it: its author, or a moderator who outranks its author. */
  canDelete: boolean;
  /** The viewer may report it: someone else's, in a GROUP room. */
  canReport: boolean;
  /** Its report form is open. */
  reporting: boolean;
  /** The viewer reported it (while the room is open). */
  reported: boolean;
  editing: boolean;
  confirmingDelete: boolean;
  pickerOpen: boolean;
  highlighted: boolean;
  /** Its actions are shown (touch screens show them for one message at a time, on a tap of its More button). */
  menuOpen: boolean;
  /** The viewer may pin and unpin it. */
  canPin: boolean;
  /** Its thread's unread replies as the page shows them (0 while its thread is open and read). */
  threadUnread: number;
  /** Its thread is the one open beside the room. */
  threadOpen: boolean;
}

/** A message shown where it cannot be acted on (a thread's root and replies in the thread panel). */
export const READ_ONLY: MessageLook = {
  grouped: false,
  mine: false,
  canDelete: false,
  canReport: false,
  reporting: false,
  reported: false,
  editing: false,
  confirmingDelete: false,
  pickerOpen: false,
  highlighted: false,
  menuOpen: false,
  canPin: false,
  threadUnread: 0,
  threadOpen: false,
};

export interface MessageActions {
  onReply(message: Message): void;
  onEdit(message: Message): void;
  onSaveEdit(message: Message, body: string): void;
  onCancelEdit(): void;
  onDelete(message: Message): void;
  onConfirmDelete(message: Message): void;
  onCancelDelete(): void;
  onTogglePicker(message: Message): void;
  onReact(message: Message, emoji: string): void;
  onToggleMenu(message: Message): void;
  /** Scrolls to the message at seq, loading history back to it. */
  onJump(seq: number): void;
  onReport(message: Message): void;
  onSendReport(message: Message, reason: ReportReason, details: string): void;
  onCancelReport(): void;
  /** Opens the thread of a root message (or, for a reply shown in the room, the thread it is in). */
  onOpenThread(message: Message): void;
  onPin(message: Message, pinned: boolean): void;
}

/** Everything that makes two renderings of a message differ: the list rebuilds an element only when it changed. */
export function messageSignature(message: Message, look: MessageLook): string {
  return JSON.stringify([
    message.body,
    message.editedAt,
    message.deletedAt,
    message.deletedBy,
    message.reactions,
    message.replyTo,
    message.thread,
    message.threadRootId,
    message.mentionsViewer,
    message.pinnedAt,
    // Each rendering's URLs are signed anew: what shows is which files, and whether a thumbnail is ready.
    message.attachments.map((a) => [a.id, a.thumbnailUrl !== null]),
    look,
  ]);
}

/** The largest box an image attachment is shown in, in CSS pixels (its thumbnail is at most 320 px). */
const IMAGE_BOX = { width: 320, height: 240 };

/**
 * One stored message: author and time (the full date on hover) unless it
 * continues a group, what it replies to (a button that jumps there), the
 * body as text with http(s) links and its own direction (dir=auto, so a
 * right-to-left message reads right), whether it mentions the viewer or is
 * pinned (in words, not colour only), its thread ("3 replies", a link that
 * opens it), reactions under it, and its actions. Buttons carry
 * data-focus-key, so the list can give focus back to the same button of a
 * rebuilt element. Without `actions` (the thread panel) it is read only;
 * `idPrefix` keeps its id apart from the same message in the room's list.
 */
export function messageView(
  message: Message,
  me: UserFieldsFragment,
  look: MessageLook,
  actions: MessageActions | null,
  idPrefix = 'message',
): HTMLElement {
  const deleted = message.deletedAt !== null;
  const mentionsMe = message.mentionsViewer && !deleted;
  const classes = [
    'message',
    look.mine && 'mine',
    look.grouped && 'grouped',
    look.highlighted && 'highlighted',
    deleted && 'deleted',
    look.menuOpen && 'menu-open',
    mentionsMe && 'mentions-me',
  ];
  const time = h('time', { datetime: message.createdAt, title: fullDate(message.createdAt) }, shortTime(message.createdAt));
  const tags = [
    mentionsMe ? h('span', { class: 'tag mention', 'data-testid': 'mentions-me' }, 'mentions you') : null,
    message.pinnedAt && !deleted ? h('span', { class: 'tag pinned', 'data-testid': 'pinned-tag' }, 'pinned') : null,
  ];
  return h(
    'li',
    {
      class: classes.filter(Boolean).join(' '),
      id: `${idPrefix}-${message.seq}`,
      tabindex: -1,
      'data-testid': 'message',
      'data-seq': message.seq,
      'data-id': message.id,
      'data-state': 'stored',
    },
    look.grouped
      ? // The name is not repeated on screen, but a screen reader reading this one message still says whose it is.
        h(
          'span',
          { class: 'meta compact' },
          h('span', { class: 'visually-hidden' }, `${message.author.username} `),
          time,
          ...tags,
        )
      : h(
          'span',
          { class: 'meta' },
          h('span', { class: 'author', 'data-testid': 'author' }, message.author.username),
          ' ',
          time,
          ...tags,
        ),
    message.replyTo && actions ? quoteView(message.replyTo, actions) : null,
    look.editing && actions ? editForm(message, actions) : bodyView(message),
    deleted ? null : attachmentsView(message.attachments),
    message.editedAt && !deleted && !look.editing
      ? h('span', { class: 'edited', title: fullDate(message.editedAt) }, '(edited)')
      : null,
    deleted || message.reactions.length === 0 ? null : reactionsView(message, me, actions),
    actions ? threadLinkView(message, look, actions) : null,
    deleted || look.editing || !actions ? null : moreButton(message, look, actions),
    deleted || look.editing || !actions ? null : actionsView(message, look, actions),
    look.pickerOpen && !deleted && actions ? pickerView(message, actions) : null,
    look.confirmingDelete && !deleted && actions ? confirmDeleteView(message, actions) : null,
    look.reporting && !deleted && actions ? reportForm(message, actions) : null,
    look.reported && !deleted
      ? h('p', { class: 'hint', 'data-testid': 'reported' }, 'You reported this message to the moderators.')
      : null,
  );
}

function bodyView(message: Message): HTMLElement {
  if (message.deletedAt) {
    const byModerator = message.deletedBy && message.deletedBy.id !== message.author.id;
    return h(
      'p',
      { class: 'body deleted', 'data-testid': 'body' },
      byModerator ? 'This message was deleted by a moderator.' : 'This message was deleted.',
    );
  }
  return h('p', { class: 'body', dir: 'auto', 'data-testid': 'body' }, ...linkify(message.body));
}

/**
 * A message's files: images as their thumbnails (the full image, scaled
 * down, until the thumbnail is ready), each a link that opens the full size
 * in a new tab; other files as download links with their name and size.
 */
export function attachmentsView(attachments: readonly Attachment[]): HTMLElement | null {
  if (attachments.length === 0) return null;
  const images = attachments.filter((a) => isImage(a.contentType));
  const files = attachments.filter((a) => !isImage(a.contentType));
  return h(
    'div',
    { class: 'attachments', 'data-testid': 'attachments' },
    images.length ? h('ul', { class: 'attached-images', 'aria-label': 'Images' }, ...images.map(imageView)) : null,
    files.length ? h('ul', { class: 'attached-files', 'aria-label': 'Files' }, ...files.map(fileView)) : null,
  );
}

function imageView(image: Attachment): HTMLElement {
  // The space is kept from the start (width and height), so the list does not jump as the image loads.
  const box = image.width && image.height ? fitWithin(image.width, image.height, IMAGE_BOX.width, IMAGE_BOX.height) : null;
  return h(
    'li',
    {},
    h(
      'a',
      {
        href: image.url,
        target: '_blank',
        rel: 'noopener noreferrer',
        class: 'attached-image',
        'data-testid': 'attachment-image',
        'data-attachment-id': image.id,
        title: `${image.filename}: open the full size`,
      },
      h('img', {
        src: image.thumbnailUrl ?? image.url,
        alt: image.filename,
        width: box?.width,
        height: box?.height,
        loading: 'lazy',
        decoding: 'async',
        'data-testid': 'attachment-thumbnail',
        'data-thumbnail': image.thumbnailUrl ? 'ready' : 'pending',
      }),
      h('span', { class: 'visually-hidden' }, ' (opens the full size in a new tab)'),
    ),
  );
}

function fileView(file: Attachment): HTMLElement {
  return h(
    'li',
    {},
    h(
      'a',
      {
        href: file.url,
        target: '_blank',
        rel: 'noopener noreferrer',
        download: file.filename,
        class: 'attached-file',
        'data-testid': 'attachment-file',
        'data-attachment-id': file.id,
      },
      h('span', { class: 'file-name', dir: 'auto' }, file.filename),
      h('span', { class: 'file-size' }, fileSize(file.size)),
    ),
  );
}

function quoteView(original: NonNullable<Message['replyTo']>, actions: MessageActions): HTMLElement {
  const text = original.deletedAt ? 'a deleted message' : excerpt(textOf(original.body), 90);
  return h(
    'button',
    {
      type: 'button',
      class: 'quote',
      'data-testid': 'reply-quote',
      'data-reply-seq': original.seq,
      'data-focus-key': 'quote',
      title: 'Show the original message',
      onclick: () => actions.onJump(original.seq),
    },
    h('span', { class: 'visually-hidden' }, 'Reply to '),
    h('strong', {}, original.author.username),
    ': ',
    h('span', { dir: 'auto' }, text),
  );
}

/**
 * A root's thread as a link that opens it: "3 replies", with how many are
 * unread; a reply shown in the room too says it is in a thread and opens it.
 */
function threadLinkView(message: Message, look: MessageLook, actions: MessageActions): HTMLElement | null {
  if (message.threadRootId) {
    return h(
      'button',
      {
        type: 'button',
        class: 'thread-link',
        'data-testid': 'in-thread',
        'data-focus-key': 'in-thread',
        onclick: () => actions.onOpenThread(message),
      },
      'Replied in a thread: show it',
    );
  }
  const count = message.thread?.replyCount ?? 0;
  if (count === 0) return null;
  const unread = look.threadUnread;
  const replies = `${count} ${count === 1 ? 'reply' : 'replies'}`;
  return h(
    'button',
    {
      type: 'button',
      class: 'thread-link',
      'data-testid': 'thread-link',
      'data-focus-key': 'thread-link',
      'data-replies': count,
      'data-unread': unread,
      onclick: () => actions.onOpenThread(message),
      'aria-expanded': String(look.threadOpen),
      'aria-controls': look.threadOpen ? 'thread-panel' : undefined,
    },
    h('span', {}, replies),
    // The badge shows the number; a screen reader hears it as words.
    unread > 0 ? h('span', { class: 'unread', 'data-testid': 'thread-unread', 'aria-hidden': 'true' }, `${unread} new`) : null,
    unread > 0 ? h('span', { class: 'visually-hidden' }, `, ${unread} unread`) : null,
  );
}

function reactionsView(message: Message, me: UserFieldsFragment, actions: MessageActions | null): HTMLElement {
  return h(
    'ul',
    { class: 'reactions', 'aria-label': 'Reactions' },
    ...message.reactions.map((reaction) => {
      const mine = reaction.users.some((u) => u.id === me.id);
      const names = reaction.users.map((u) => (u.id === me.id ? 'you' : u.username));
      const who = names.length > reaction.count ? names.slice(0, reaction.count) : names;
      if (!actions) {
        return h(
          'li',
          {},
          h(
            'span',
            {
              class: mine ? 'reaction mine' : 'reaction',
              title: who.join(', '),
              'data-testid': 'reaction',
              'data-emoji': reaction.emoji,
            },
            h('span', { 'aria-hidden': 'true' }, reaction.emoji),
            h('span', { class: 'count', 'aria-hidden': 'true' }, String(reaction.count)),
            h('span', { class: 'visually-hidden' }, `${reaction.emoji} ${reaction.count}: ${who.join(', ')}`),
          ),
        );
      }
      const label = `${reaction.emoji} ${reaction.count}: ${who.join(', ')}${reaction.count > who.length ? ' and others' : ''}${mine ? '. Press to remove yours' : '. Press to add yours'}`;
      return h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: mine ? 'reaction mine' : 'reaction',
            'aria-pressed': String(mine),
            'aria-label': label,
            title: who.join(', '),
            'data-testid': 'reaction',
            'data-emoji': reaction.emoji,
            'data-count': reaction.count,
            'data-focus-key': `reaction-${reaction.emoji}`,
            onclick: () => actions.onReact(message, reaction.emoji),
          },
          h('span', { 'aria-hidden': 'true' }, reaction.emoji),
          h('span', { class: 'count', 'aria-hidden': 'true' }, String(reaction.count)),
        ),
      );
    }),
  );
}

/** On touch screens (no hover), the one button that shows a message's actions; hidden by CSS where a pointer hovers. */
function moreButton(message: Message, look: MessageLook, actions: MessageActions): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'more secondary',
      'data-testid': 'more',
      'data-focus-key': 'more',
      'aria-expanded': String(look.menuOpen),
      onclick: () => actions.onToggleMenu(message),
    },
    h('span', { 'aria-hidden': 'true' }, '⋯'),
    h('span', { class: 'visually-hidden' }, `Actions on ${message.author.username}’s message`),
  );
}

function actionsView(message: Message, look: MessageLook, actions: MessageActions): HTMLElement {
  const button = (label: string, testid: string, onclick: () => void, extra: Record<string, string> = {}) =>
    h('button', { type: 'button', class: 'action', 'data-testid': testid, 'data-focus-key': testid, onclick, ...extra }, label);
  const author = message.author.username;
  return h(
    'div',
    { class: 'actions', role: 'group', 'aria-label': `Actions on ${author}’s message` },
    button('React', 'react', () => actions.onTogglePicker(message), {
      'aria-expanded': String(look.pickerOpen),
      'aria-controls': `picker-${message.seq}`,
      'aria-label': `React to ${author}’s message`,
    }),
    button('Reply', 'reply', () => actions.onReply(message), { 'aria-label': `Reply to ${author}` }),
    // A thread starts from a timeline message, never from a reply.
    message.threadRootId
      ? null
      : button('Thread', 'open-thread', () => actions.onOpenThread(message), {
          'aria-label': `Reply in a thread to ${author}’s message`,
        }),
    look.canPin
      ? message.pinnedAt
        ? button('Unpin', 'unpin', () => actions.onPin(message, false), { 'aria-label': `Unpin ${author}’s message` })
        : button('Pin', 'pin', () => actions.onPin(message, true), { 'aria-label': `Pin ${author}’s message for everyone` })
      : null,
    look.mine ? button('Edit', 'edit', () => actions.onEdit(message), { 'aria-label': 'Edit your message' }) : null,
    look.canDelete ? button('Delete', 'delete', () => actions.onDelete(message), { 'aria-label': 'Delete this message' }) : null,
    look.canReport && !look.reported
      ? button('Report', 'report', () => actions.onReport(message), {
          'aria-expanded': String(look.reporting),
          'aria-label': `Report ${author}’s message to the moderators`,
        })
      : null,
  );
}

function pickerView(message: Message, actions: MessageActions): HTMLElement {
  return h(
    'div',
    {
      class: 'picker',
      id: `picker-${message.seq}`,
      role: 'group',
      'aria-label': 'Pick a reaction',
      'data-testid': 'picker',
      onkeydown: (event: Event) => {
        if ((event as KeyboardEvent).key === 'Escape') actions.onTogglePicker(message);
      },
    },
    ...PICKER_EMOJI.map((emoji, i) =>
      h(
        'button',
        {
          type: 'button',
          class: 'pick',
          'data-testid': 'pick',
          'data-emoji': emoji,
          'data-focus-key': i === 0 ? 'picker-first' : `pick-${emoji}`,
          'aria-label': `React with ${emoji}`,
          onclick: () => actions.onReact(message, emoji),
        },
        emoji,
      ),
    ),
  );
}

function confirmDeleteView(message: Message, actions: MessageActions): HTMLElement {
  return h(
    'div',
    { class: 'confirm', role: 'group', 'aria-label': 'Confirm deletion' },
    h('span', {}, 'Delete this message for everyone?'),
    h(
      'button',
      {
        type: 'button',
        class: 'danger',
        'data-testid': 'confirm-delete',
        'data-focus-key': 'confirm-delete',
        onclick: () => actions.onConfirmDelete(message),
      },
      'Delete',
    ),
    h(
      'button',
      { type: 'button', class: 'secondary', 'data-focus-key': 'cancel-delete', onclick: () => actions.onCancelDelete() },
      'Keep it',
    ),
  );
}

/** Reporting a message: a reason (the contract's ReportReason) and, optionally, up to 1,000 characters of details. */
function reportForm(message: Message, actions: MessageActions): HTMLElement {
  const reasonId = `report-reason-${message.seq}`;
  const detailsId = `report-details-${message.seq}`;
  const reason = h(
    'select',
    { id: reasonId, 'data-testid': 'report-reason', 'data-focus-key': 'report-reason' },
    ...REPORT_REASONS.map(([value, label]) => h('option', { value }, label)),
  ) as HTMLSelectElement;
  const details = h('textarea', {
    id: detailsId,
    rows: 2,
    maxlength: 1000,
    dir: 'auto',
    'data-testid': 'report-details',
  }) as HTMLTextAreaElement;
  return h(
    'form',
    {
      class: 'report',
      'aria-label': `Report ${message.author.username}’s message`,
      'data-testid': 'report-form',
      onkeydown: (event: Event) => {
        if ((event as KeyboardEvent).key === 'Escape') actions.onCancelReport();
      },
      onsubmit: (event: Event) => {
        event.preventDefault();
        actions.onSendReport(message, reason.value as ReportReason, details.value);
      },
    },
    h('label', { for: reasonId }, 'Why report it?'),
    reason,
    h('label', { for: detailsId }, 'Details for the moderators (optional)'),
    details,
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', class: 'danger', 'data-testid': 'send-report' }, 'Report'),
      h('button', { type: 'button', class: 'secondary', onclick: () => actions.onCancelReport() }, 'Cancel'),
    ),
  );
}

function editForm(message: Message, actions: MessageActions): HTMLElement {
  const id = `edit-${message.seq}`;
  const input = h('textarea', {
    id,
    class: 'edit-input',
    rows: 2,
    dir: 'auto',
    'data-testid': 'edit-input',
    'data-focus-key': 'edit-input',
    value: message.body,
    onkeydown: (event: Event) => {
      const key = event as KeyboardEvent;
      if (key.key === 'Escape') actions.onCancelEdit();
      if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
        key.preventDefault();
        actions.onSaveEdit(message, input.value);
      }
    },
  }) as HTMLTextAreaElement;
  return h(
    'form',
    {
      class: 'edit',
      onsubmit: (event: Event) => {
        event.preventDefault();
        actions.onSaveEdit(message, input.value);
      },
    },
    h('label', { for: id, class: 'visually-hidden' }, 'Edit your message'),
    input,
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', 'data-testid': 'save-edit' }, 'Save'),
      h('button', { type: 'button', class: 'secondary', onclick: () => actions.onCancelEdit() }, 'Cancel'),
    ),
  );
}

/** A message typed here and not stored yet: greyed while it goes out, marked with why when refused. */
export function outgoingView(
  message: OutgoingMessage,
  me: UserFieldsFragment,
  onRetry: () => void,
  onDiscard: () => void,
): HTMLElement {
  const note =
    message.state === 'sending' ? 'sending…' : message.state === 'retrying' ? `${message.error ?? 'retrying'}…` : message.error;
  return h(
    'li',
    {
      class: `message mine outgoing ${message.state}`,
      'data-testid': 'message',
      'data-state': message.state,
      'data-client-id': message.clientId,
    },
    h('span', { class: 'meta' }, h('span', { class: 'author' }, me.username)),
    message.replyTo
      ? h(
          'p',
          { class: 'quote' },
          h('strong', {}, message.replyTo.author.username),
          ': ',
          excerpt(textOf(message.replyTo.body), 90),
        )
      : null,
    h('p', { class: 'body', dir: 'auto' }, ...linkify(message.body)),
    message.files.length ? outgoingFilesView(message.files) : null,
    h('span', { class: 'note', 'data-testid': 'outgoing-note' }, note ?? ''),
    message.state === 'failed'
      ? h(
          'span',
          { class: 'row' },
          h('button', { type: 'button', class: 'secondary', onclick: onRetry, 'data-testid': 'retry' }, 'Retry'),
          h('button', { type: 'button', class: 'secondary', onclick: onDiscard }, 'Discard'),
        )
      : null,
  );
}

/** The files of a message on its way: names and sizes (they show as attachments once it is stored). */
function outgoingFilesView(files: readonly OutgoingFile[]): HTMLElement {
  return h(
    'ul',
    { class: 'attached-files outgoing-files', 'aria-label': 'Files' },
    ...files.map((file) =>
      h(
        'li',
        {},
        h('span', { class: 'file-name', dir: 'auto' }, file.filename),
        ' ',
        h('span', { class: 'file-size' }, fileSize(file.size)),
      ),
    ),
  );
}
