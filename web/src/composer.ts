import type { UserFieldsFragment } from '../../client/index.js';
import { extensionOf, fileSize, PendingUploads, type OutgoingFile, type PendingUpload, type Uploader } from './attachments.js';
import { h } from './dom.js';
import { KeyedList } from './keyed-list.js';
import { MentionPicker } from './mentions.js';
import { restrictionText, type Restriction } from './moderation.js';
import { codePoints, COUNTER_FROM, excerpt, MAX_BODY, textOf } from './text.js';
import type { Message } from './timeline.js';

export interface ComposerHandlers {
  /** A key in the box. */
  onTyped(): void;
  onSend(): void;
  onCancelReply(): void;
}

export interface ComposerOptions extends ComposerHandlers {
  /** The box's id (the prefix of its parts' ids): one page may hold two composers, the room's and a thread's. */
  id: string;
  /** The box's label for the open room's name (null: no room open). */
  label(roomName: string | null): string;
  /** The open room's members, whom the @-mention picker offers. */
  members(): UserFieldsFragment[];
  me: UserFieldsFragment;
  /** A thread's box: a choice to send the reply to the room too (showInRoom). */
  alsoToRoom?: boolean;
  /** Attaching files (a picker button, paste, drops): how they are uploaded. Without it the box takes text only. */
  uploader?: Uploader;
  /** A failure in words, for a file that could not be uploaded. */
  describe?(error: unknown): string;
}

/** What the box holds, ready to go: its text (empty with files) and its uploaded files; or why it cannot go yet. */
export type Outgoing = { body: string; files: OutgoingFile[] } | { problem: string };

/**
 * Where messages are written: the box, what the next message replies to,
 * the @-mention picker, and a counter that appears near the contract's 4,000
 * characters. Nothing typed or pasted is ever cut: past the limit the
 * counter says by how much, and sending is refused until it fits.
 *
 * With an uploader it takes files too: from its Attach button (a file
 * picker), pasted into the box, or dropped on it or on the areas given to
 * acceptDrops(). Each file uploads as soon as it is added and shows above
 * the box with its progress, a preview of an image, and a button to remove
 * it; a message goes once every file it holds is uploaded, and may then
 * have no text. The files are held per room: another room's box has its own.
 */
export class Composer {
  readonly element: HTMLElement;
  private readonly box: HTMLTextAreaElement;
  private readonly picker: MentionPicker;
  private readonly toRoom: HTMLInputElement | null;
  private readonly sendButton: HTMLButtonElement;
  private readonly counter: HTMLElement;
  private readonly replying: HTMLElement;
  private readonly label: HTMLElement;
  /** Why the viewer cannot post now, with the time left (updated each second, so not itself a live region). */
  private readonly restriction: HTMLElement;
  /** Says a new restriction once to a screen reader (the ticking countdown would repeat it every second). */
  private readonly announcer: HTMLElement;
  private announced: string | null = null;
  private enabled = false;
  /** The open room's id: the files held are that room's. */
  private roomId: string | null = null;
  private readonly uploads = new Map<string, PendingUploads>();
  private readonly attachButton: HTMLButtonElement | null = null;
  private readonly fileInput: HTMLInputElement | null = null;
  /** The files held, above the box. */
  private readonly tray = new KeyedList(h('ul', { class: 'pending-files', 'aria-label': 'Files to send', hidden: true }));
  /** Why files were not added (type, size, count): said at once. */
  private readonly attachError: HTMLElement;
  /** Says a file's upload finished or failed (progress itself is not announced). */
  private readonly uploadStatus: HTMLElement;
  /** Each held file's state as last shown, to announce only what changed. */
  private readonly shownStates = new Map<string, PendingUpload['state']>();

  constructor(private readonly options: ComposerOptions) {
    const handlers = options;
    const id = options.id;
    // The room's box keeps the page's first test ids; a thread's has its id in front of each.
    const testid = (name: string) => (id === 'composer' ? name : `${id}-${name}`);
    this.box = h('textarea', {
      id,
      rows: 2,
      dir: 'auto',
      'data-testid': id,
      'aria-describedby': `${id}-counter`,
      disabled: true,
      oninput: () => {
        this.update();
        this.picker.update();
        handlers.onTyped();
      },
      onkeyup: (event: Event) => {
        const key = (event as KeyboardEvent).key;
        // The caret moved: the @-word at it may have changed.
        if (key.startsWith('Arrow') || key === 'Home' || key === 'End') {
          if (!this.picker.isOpen || (key !== 'ArrowUp' && key !== 'ArrowDown')) this.picker.update();
        }
      },
      onpaste: (event: Event) => this.pasted(event as ClipboardEvent),
      onkeydown: (event: Event) => {
        const key = event as KeyboardEvent;
        if (this.picker.handleKey(key)) return;
        if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
          key.preventDefault();
          handlers.onSend();
        }
        if (key.key === 'Escape' && !this.replying.hidden) handlers.onCancelReply();
      },
    }) as HTMLTextAreaElement;
    this.picker = new MentionPicker(this.box, {
      id,
      members: () => options.members(),
      meId: options.me.id,
      onChange: () => this.update(),
    });
    this.sendButton = h(
      'button',
      { type: 'submit', class: 'send', 'data-testid': testid('send'), disabled: true },
      'Send',
    ) as HTMLButtonElement;
    this.counter = h('p', { id: `${id}-counter`, class: 'counter', 'data-testid': testid('char-counter') });
    this.replying = h('div', { class: 'replying', 'data-testid': testid('replying'), hidden: true });
    this.label = h('label', { for: id, class: 'visually-hidden' }, options.label(null));
    this.restriction = h('p', { class: 'restriction', 'data-testid': testid('restriction'), hidden: true });
    this.announcer = h('p', { class: 'visually-hidden', role: 'status' });
    this.toRoom = options.alsoToRoom
      ? (h('input', { id: `${id}-to-room`, type: 'checkbox', 'data-testid': testid('to-room') }) as HTMLInputElement)
      : null;
    this.attachError = h('p', { class: 'notice error attach-error', role: 'alert', 'data-testid': testid('attach-error') });
    this.uploadStatus = h('p', { class: 'visually-hidden', role: 'status' });
    this.tray.element.setAttribute('data-testid', testid('pending-files'));
    if (options.uploader) {
      // Hidden: the button opens it, so it is neither a second tab stop nor a second control to a screen reader.
      this.fileInput = h('input', {
        type: 'file',
        multiple: true,
        hidden: true,
        'data-testid': testid('file-input'),
        onchange: () => {
          this.addFiles([...(this.fileInput!.files ?? [])]);
          this.fileInput!.value = '';
        },
      }) as HTMLInputElement;
      this.attachButton = h(
        'button',
        {
          type: 'button',
          class: 'secondary attach',
          'data-testid': testid('attach'),
          'aria-label': 'Attach files',
          title: 'Attach files (or paste or drop them here)',
          disabled: true,
          onclick: () => this.fileInput!.click(),
        },
        h('span', { 'aria-hidden': 'true' }, '+'),
      ) as HTMLButtonElement;
    }
    this.element = h(
      'form',
      {
        class: 'composer',
        onsubmit: (event: Event) => {
          event.preventDefault();
          handlers.onSend();
        },
      },
      this.restriction,
      this.announcer,
      this.picker.announcer,
      this.replying,
      this.tray.element,
      this.attachError,
      this.uploadStatus,
      this.label,
      this.picker.element,
      h('div', { class: 'row' }, this.attachButton, this.fileInput, this.box, this.sendButton),
      this.toRoom
        ? h('div', { class: 'check' }, this.toRoom, h('label', { for: this.toRoom.id }, 'Also send to the room'))
        : null,
      this.counter,
    );
    this.cancelReply = () => handlers.onCancelReply();
    if (options.uploader) this.acceptDrops(this.element);
  }

  private readonly cancelReply: () => void;

  /** Enabled with a room open; the label names the room, and the files shown are that room's. */
  setRoom(name: string | null, roomId: string | null = null): void {
    this.enabled = name !== null;
    this.box.disabled = !this.enabled;
    if (this.attachButton) this.attachButton.disabled = !this.enabled || roomId === null;
    this.label.textContent = this.options.label(name);
    if (roomId !== this.roomId) {
      this.roomId = roomId;
      this.attachError.textContent = '';
      this.renderFiles();
    }
    this.update();
  }

  /**
   * Files to attach, from the picker, a paste or a drop: each allowed one
   * starts uploading; why the others were not added is said above the box.
   */
  addFiles(files: ReadonlyArray<File>): void {
    if (files.length === 0) return;
    const uploads = this.currentUploads(true);
    if (!uploads || !this.enabled) {
      this.attachError.textContent = 'Open a room to attach files to a message there.';
      return;
    }
    this.attachError.textContent = uploads.add(files).join(' ');
  }

  /**
   * Files dropped on `target` are attached here. While files are dragged over
   * it, it is marked (class "dropping"); a drop there never opens the file in
   * the tab instead.
   */
  acceptDrops(target: HTMLElement): void {
    if (!this.options.uploader) return;
    // dragenter and dragleave fire for each child crossed: counted, so the mark goes only when the pointer leaves.
    let depth = 0;
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const unmark = () => {
      depth = 0;
      target.classList.remove('dropping');
    };
    target.addEventListener('dragenter', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth++;
      target.classList.toggle('dropping', this.enabled);
    });
    target.addEventListener('dragover', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer!.dropEffect = this.enabled ? 'copy' : 'none';
    });
    target.addEventListener('dragleave', (event) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) unmark();
    });
    target.addEventListener('drop', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      // The thread's box inside the room's area takes its own drops.
      event.stopPropagation();
      unmark();
      this.addFiles([...event.dataTransfer!.files]);
    });
  }

  /**
   * The message to send: the text (empty when there are files and only
   * spaces were typed, as the contract wants) and the uploaded files; null
   * when there is nothing to send; a problem when it cannot go yet.
   */
  outgoing(): Outgoing | null {
    const text = this.box.value;
    if (codePoints(text) > MAX_BODY) {
      return { problem: `A message is at most ${MAX_BODY.toLocaleString()} characters: shorten it to send.` };
    }
    const uploads = this.currentUploads(false);
    const held = uploads?.list() ?? [];
    if (text.trim() === '' && held.length === 0) return null;
    if (uploads?.uploading) return { problem: 'The files are still uploading: send once they are done.' };
    if (uploads?.failed) return { problem: 'A file could not be uploaded: retry it or remove it, then send.' };
    const files = held.map(({ uploadId, filename, contentType, size }) => ({ id: uploadId!, filename, contentType, size }));
    return { body: files.length > 0 && text.trim() === '' ? '' : text, files };
  }

  /** Shows why sending is refused now, and for how long; null hides it. Called again each second while it counts down. */
  setRestriction(restriction: Restriction | null): void {
    this.restriction.hidden = restriction === null;
    this.restriction.dataset.reason = restriction?.reason ?? '';
    const text = restriction ? restrictionText(restriction) : '';
    this.restriction.textContent = text;
    const key = restriction ? `${restriction.reason}:${restriction.until}` : null;
    if (key !== this.announced) {
      this.announced = key;
      this.announcer.textContent = restriction ? text : this.enabled ? 'You can send messages here again.' : '';
    }
  }

  setReplyTo(message: Message | null): void {
    this.replying.hidden = message === null;
    if (!message) return this.replying.replaceChildren();
    this.replying.replaceChildren(
      h(
        'span',
        {},
        'Replying to ',
        h('strong', {}, message.author.username),
        ': ',
        h('span', { dir: 'auto' }, excerpt(textOf(message.body), 60)),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-testid': 'cancel-reply',
          'aria-label': 'Cancel the reply',
          onclick: this.cancelReply,
        },
        'Cancel',
      ),
    );
  }

  /** The ids of the members the draft mentions (picked with @, and still in the text). */
  get mentions(): string[] {
    return this.picker.mentions();
  }

  /** A thread's box: whether the reply goes to the room too. */
  get showInRoom(): boolean {
    return this.toRoom?.checked ?? false;
  }

  /** Empties the box: its text, and its files (sent with the message, or dropped with the draft). */
  clear(): void {
    this.box.value = '';
    this.picker.clear();
    if (this.toRoom) this.toRoom.checked = false;
    this.currentUploads(false)?.clear();
    this.attachError.textContent = '';
    this.update();
  }

  focus(): void {
    this.box.focus();
  }

  /** The open room's files; made on first use when `create`. */
  private currentUploads(create: boolean): PendingUploads | null {
    const { roomId } = this;
    const uploader = this.options.uploader;
    if (roomId === null || !uploader) return null;
    let uploads = this.uploads.get(roomId);
    if (!uploads && create) {
      uploads = new PendingUploads({
        roomId,
        uploader,
        describe: (error) => this.options.describe?.(error) ?? String(error),
        onChange: () => {
          if (this.roomId === roomId) this.renderFiles();
        },
      });
      this.uploads.set(roomId, uploads);
    }
    return uploads ?? null;
  }

  /** Files from the clipboard (a screenshot, a copied file) are attached; text pastes as text. */
  private pasted(event: ClipboardEvent): void {
    const data = event.clipboardData;
    const files = [...(data?.files ?? [])];
    if (!this.options.uploader || files.length === 0) return;
    // Text copied from a word processor comes with a picture of itself: that is a paste of text.
    if (data!.getData('text/plain') !== '') return;
    event.preventDefault();
    this.addFiles(files);
  }

  /**
   * The held files above the box: each rebuilt only when its state changed
   * (so focus on its buttons stays), its progress moved in place.
   */
  private renderFiles(): void {
    const uploads = this.currentUploads(false);
    const held = uploads?.list() ?? [];
    // Keys are a room's own: another room's first file is another file.
    const keyOf = (file: PendingUpload) => `${uploads!.roomId}:${file.key}`;
    const refocus = this.tray.reconcile(
      held.map((file) => ({
        key: keyOf(file),
        signature: JSON.stringify([file.state, file.error]),
        build: () => this.fileView(uploads!, file),
      })),
    );
    if (refocus) {
      // Retry goes once its file is uploading again: focus stays on the file, at its Remove button.
      const button = (key: string | null) => refocus.element.querySelector<HTMLElement>(`[data-focus-key="${key}"]`);
      (button(refocus.key) ?? button('remove'))?.focus();
    }
    for (const file of held) {
      const element = this.tray.get(keyOf(file));
      const progress = element?.querySelector('progress');
      if (progress) progress.value = file.sent;
      const percent = element?.querySelector('[data-testid=upload-percent]');
      if (percent) percent.textContent = `${Math.floor((100 * file.sent) / file.size)}%`;
      const before = this.shownStates.get(keyOf(file));
      if (before === 'uploading' && file.state === 'ready') this.uploadStatus.textContent = `${file.filename} is uploaded.`;
      if (before === 'uploading' && file.state === 'failed') {
        this.uploadStatus.textContent = `${file.filename} could not be uploaded.`;
      }
    }
    this.shownStates.clear();
    for (const file of held) this.shownStates.set(keyOf(file), file.state);
    this.tray.element.hidden = held.length === 0;
  }

  private fileView(uploads: PendingUploads, file: PendingUpload): HTMLElement {
    const remove = () => {
      uploads.remove(file.key);
      this.box.focus();
    };
    return h(
      'li',
      { class: `pending-file ${file.state}`, 'data-testid': 'pending-file', 'data-state': file.state },
      file.preview
        ? h('img', { class: 'preview', src: file.preview, alt: '', width: 48, height: 48 })
        : h('span', { class: 'preview file-icon', 'aria-hidden': 'true' }, extensionOf(file.contentType).toUpperCase()),
      h(
        'span',
        { class: 'file-info' },
        h('span', { class: 'file-name', dir: 'auto', 'data-testid': 'pending-name' }, file.filename),
        h('span', { class: 'file-size' }, fileSize(file.size)),
        file.state === 'uploading'
          ? h(
              'span',
              { class: 'file-progress' },
              h('progress', { max: file.size, value: file.sent, 'aria-label': `Uploading ${file.filename}` }),
              h('span', { 'data-testid': 'upload-percent' }, '0%'),
            )
          : file.state === 'failed'
            ? h('span', { class: 'file-error', 'data-testid': 'upload-error' }, file.error ?? 'The upload failed.')
            : h('span', { class: 'file-ready' }, 'Uploaded'),
      ),
      file.state === 'failed'
        ? h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              'data-testid': 'retry-upload',
              'data-focus-key': 'retry',
              'aria-label': `Retry uploading ${file.filename}`,
              onclick: () => uploads.retry(file.key),
            },
            'Retry',
          )
        : null,
      h(
        'button',
        {
          type: 'button',
          class: 'secondary remove-file',
          'data-testid': 'remove-file',
          'data-focus-key': 'remove',
          'aria-label': `Remove ${file.filename}`,
          title: 'Remove',
          onclick: remove,
        },
        h('span', { 'aria-hidden': 'true' }, '×'),
      ),
    );
  }

  private update(): void {
    const length = codePoints(this.box.value);
    const over = length - MAX_BODY;
    this.counter.classList.toggle('over', over > 0);
    this.counter.textContent =
      over > 0
        ? `${over.toLocaleString()} character${over === 1 ? '' : 's'} over the limit of ${MAX_BODY.toLocaleString()}: shorten it to send.`
        : length >= COUNTER_FROM
          ? `${Math.max(0, -over).toLocaleString()} character${over === -1 ? '' : 's'} left.`
          : '';
    this.box.setAttribute('aria-invalid', String(over > 0));
    this.sendButton.disabled = !this.enabled || over > 0;
  }
}
