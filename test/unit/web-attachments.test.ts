import { describe, expect, it } from 'vitest';
import { ChatRequestError } from '../../client/index.js';
import { classify, describe as describeError, describeUploadError } from '../../web/src/api.js';
import {
  fileSize,
  fitWithin,
  MAX_FILE_BYTES,
  PendingUploads,
  putFailureText,
  refusal,
  UploadError,
  uploadName,
  type Uploader,
  type UploadTarget,
} from '../../web/src/attachments.js';
import { Outbox } from '../../web/src/outbox.js';
import { Timeline, type Message } from '../../web/src/timeline.js';
import { webMessage } from '../support/web-message.js';

const file = (name: string, type: string, size = 10) => new File([new Uint8Array(size)], name, { type });

describe('the browser client’s attachment helpers', () => {
  it('says sizes in binary units, one decimal under ten', () => {
    expect([0, 1, 1023, 1024, 1536, 10 * 1024 + 300, 25 * 1024 * 1024, 3 * 1024 ** 3].map(fileSize)).toEqual([
      '0 bytes',
      '1 byte',
      '1023 bytes',
      '1 KB',
      '1.5 KB',
      '10 KB',
      '25 MB',
      '3 GB',
    ]);
  });

  it('refuses before asking what the contract does not take: a type off its list, an empty file, one over 25 MiB, an 11th', () => {
    expect(refusal(file('a.png', 'image/png'), 0)).toBeNull();
    expect(refusal(file('notes.txt', 'text/plain;charset=utf-8'), 9)).toBeNull();
    expect(refusal(file('page.html', 'text/html'), 0)).toMatch(
      /^“page\.html” cannot be sent: text\/html files are not allowed, only images/,
    );
    expect(refusal(file('thing', ''), 0)).toMatch(/^“thing” cannot be sent: files of that type are not allowed/);
    expect(refusal(file('empty.pdf', 'application/pdf', 0), 0)).toBe('“empty.pdf” cannot be sent: it is empty.');
    expect(refusal({ name: 'big.mp4', type: 'video/mp4', size: MAX_FILE_BYTES + 1 }, 0)).toBe(
      '“big.mp4” cannot be sent: it is 25 MB, and a file may be at most 25 MB.',
    );
    expect(refusal({ name: 'ok.mp4', type: 'video/mp4', size: MAX_FILE_BYTES }, 0)).toBeNull();
    expect(refusal(file('one-too-many.png', 'image/png'), 10)).toBe(
      '“one-too-many.png” was not added: a message takes at most 10 files.',
    );
  });

  it('names an upload as the contract takes it: no path separators or control characters, 255 characters at most with the extension kept, a name for a nameless paste', () => {
    expect(uploadName('report 2024.pdf', 'application/pdf')).toBe('report 2024.pdf');
    expect(uploadName('a/b\\c.png', 'image/png')).toBe('a_b_c.png');
    expect(uploadName(' tab\there\u0007.txt ', 'text/plain')).toBe('tabhere.txt');
    expect(uploadName('', 'image/png')).toBe('pasted.png');
    expect(uploadName('..', 'image/jpeg')).toBe('pasted.jpg');
    const long = uploadName(`${'é'.repeat(300)}.jpeg`, 'image/jpeg');
    expect([...long].length).toBe(255);
    expect(long.endsWith('é.jpeg')).toBe(true);
  });

  it('fits an image in its box, keeping its proportions and never enlarging it', () => {
    expect(fitWithin(640, 480, 320, 240)).toEqual({ width: 320, height: 240 });
    expect(fitWithin(1000, 100, 320, 240)).toEqual({ width: 320, height: 32 });
    expect(fitWithin(100, 1000, 320, 240)).toEqual({ width: 24, height: 240 });
    expect(fitWithin(40, 30, 320, 240)).toEqual({ width: 40, height: 30 });
    expect(fitWithin(5000, 1, 320, 240)).toEqual({ width: 320, height: 1 });
  });

  it('says why the storage refused a PUT: S3’s message, the embedded storage’s text, never an HTML page', () => {
    expect(
      putFailureText(403, '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'),
    ).toBe('The storage refused the file (403): Request has expired.');
    expect(putFailureText(400, 'Content-Type must be image/png, as createUpload was told')).toBe(
      'The storage refused the file (400): Content-Type must be image/png, as createUpload was told.',
    );
    expect(putFailureText(502, '<html><body>Bad gateway</body></html>')).toBe('The storage refused the file (502).');
    expect(putFailureText(500, '')).toBe('The storage refused the file (500).');
  });

  it('keeps the server’s sentence for the limit on unsent uploads, which says what to do', () => {
    const limit = new ChatRequestError([
      {
        message: 'You have 20 uploads not attached to a message yet: send or wait for them first',
        extensions: { code: 'RATE_LIMITED', retryAfter: 900 },
      },
    ]);
    expect(describeUploadError(limit)).toBe('You have 20 uploads not attached to a message yet: send or wait for them first.');
    const forbidden = new ChatRequestError([{ message: 'muted', extensions: { code: 'FORBIDDEN', reason: 'MUTED' } }]);
    expect(describeUploadError(forbidden)).toBe(describeError(forbidden));
  });
});

/** An uploader whose steps the test answers one by one. */
function fakeUploader() {
  const created: Array<{
    input: Parameters<Uploader['createUpload']>[0];
    resolve(t: UploadTarget): void;
    reject(e: unknown): void;
  }> = [];
  const puts: Array<{
    target: UploadTarget;
    progress(sent: number): void;
    signal: AbortSignal;
    resolve(): void;
    reject(e: unknown): void;
  }> = [];
  let ids = 0;
  const uploader: Uploader = {
    createUpload: (input) => new Promise((resolve, reject) => created.push({ input, resolve, reject })),
    put: (target, _file, progress, signal) =>
      new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new DOMException('stopped', 'AbortError')));
        puts.push({ target, progress, signal, resolve, reject });
      }),
  };
  const target = () => ({ id: `upload-${++ids}`, uploadUrl: `https://files.example/${ids}`, uploadHeaders: [] });
  const urls = { made: [] as string[], revoked: [] as string[] };
  let changes = 0;
  const uploads = new PendingUploads({
    roomId: 'room-1',
    uploader,
    describe: describeError,
    onChange: () => changes++,
    objectUrls: {
      create: () => {
        urls.made.push(`blob:${urls.made.length + 1}`);
        return urls.made.at(-1)!;
      },
      revoke: (url) => urls.revoked.push(url),
    },
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return { uploads, created, puts, target, urls, settle, changes: () => changes };
}

describe('the files a composer holds (PendingUploads)', () => {
  it('uploads each allowed file at once (createUpload for the room, then the PUT with progress), and holds it ready with its upload id', async () => {
    const { uploads, created, puts, target, urls, settle } = fakeUploader();
    const refusals = uploads.add([
      file('cat.png', 'image/png', 100),
      file('x.exe', 'application/x-msdownload'),
      file('a.pdf', 'application/pdf', 7),
    ]);
    expect(refusals).toEqual([expect.stringMatching(/^“x\.exe” cannot be sent/)]);
    expect(created.map((c) => c.input)).toEqual([
      { roomId: 'room-1', filename: 'cat.png', contentType: 'image/png', size: 100 },
      { roomId: 'room-1', filename: 'a.pdf', contentType: 'application/pdf', size: 7 },
    ]);
    // A preview for the image only.
    expect(uploads.list().map((f) => f.preview)).toEqual(['blob:1', null]);
    expect(urls.made).toEqual(['blob:1']);

    created[0]!.resolve(target());
    created[1]!.resolve(target());
    await settle();
    expect(puts.map((p) => p.target.uploadUrl)).toEqual(['https://files.example/1', 'https://files.example/2']);
    puts[0]!.progress(40);
    expect(uploads.list()[0]!.sent).toBe(40);
    expect(uploads.uploading).toBe(true);
    puts[1]!.resolve();
    await settle();
    expect(uploads.list().map((f) => f.state)).toEqual(['uploading', 'ready']);
    puts[0]!.resolve();
    await settle();
    expect(uploads.uploading).toBe(false);
    expect(uploads.ready().map((f) => [f.filename, f.uploadId, f.sent])).toEqual([
      ['cat.png', 'upload-1', 100],
      ['a.pdf', 'upload-2', 7],
    ]);
  });

  it('holds a failed file with why (the storage’s words, or the server’s refusal), and a retry uploads it anew', async () => {
    const { uploads, created, puts, target, settle } = fakeUploader();
    uploads.add([file('a.png', 'image/png'), file('b.png', 'image/png')]);
    created[0]!.resolve(target());
    created[1]!.reject(new ChatRequestError([{ message: 'muted', extensions: { code: 'FORBIDDEN', reason: 'MUTED' } }]));
    await settle();
    puts[0]!.reject(new UploadError('The storage refused the file (403): Request has expired.'));
    await settle();
    expect(uploads.failed).toBe(true);
    expect(uploads.list().map((f) => [f.state, f.error])).toEqual([
      ['failed', 'The storage refused the file (403): Request has expired.'],
      ['failed', expect.stringMatching(/muted/i)],
    ]);

    uploads.retry(uploads.list()[0]!.key);
    expect(uploads.list()[0]!.state).toBe('uploading');
    expect(created).toHaveLength(3);
    created[2]!.resolve(target());
    await settle();
    puts[1]!.resolve();
    await settle();
    expect(uploads.list()[0]!).toMatchObject({ state: 'ready', error: null, uploadId: 'upload-2' });
  });

  it('stops the upload of a removed file and frees its preview; the late answer changes nothing', async () => {
    const { uploads, created, puts, target, urls, settle } = fakeUploader();
    uploads.add([file('a.png', 'image/png'), file('b.gif', 'image/gif')]);
    created[0]!.resolve(target());
    await settle();
    const [first, second] = uploads.list();
    uploads.remove(first!.key);
    expect(puts[0]!.signal.aborted).toBe(true);
    expect(urls.revoked).toEqual(['blob:1']);
    // Removed before its URL came: nothing is PUT.
    uploads.remove(second!.key);
    created[1]!.resolve(target());
    await settle();
    expect(puts).toHaveLength(1);
    expect(uploads.list()).toEqual([]);
    expect(urls.revoked).toEqual(['blob:1', 'blob:2']);
  });

  it('lets go of every file at once after a send, freeing the previews', async () => {
    const { uploads, created, puts, target, urls, settle } = fakeUploader();
    uploads.add([file('a.png', 'image/png'), file('b.txt', 'text/plain')]);
    for (const c of created) c.resolve(target());
    await settle();
    for (const p of puts) p.resolve();
    await settle();
    expect(uploads.ready()).toHaveLength(2);
    uploads.clear();
    expect(uploads.list()).toEqual([]);
    expect(urls.revoked).toEqual(['blob:1']);
  });
});

const attachment = (id: string, thumbnailUrl: string | null, url = `https://files.example/${id}?sig=1`) => ({
  id,
  filename: `${id}.png`,
  contentType: 'image/png',
  size: 100,
  url,
  width: 640,
  height: 480,
  thumbnailUrl,
});

/** With no text: these messages carry attachments. */
const message = (seq: number, extra: Partial<Message> = {}): Message => webMessage(seq, { body: '', ...extra });

describe('messages with attachments in the timeline and the outbox', () => {
  it('takes a thumbnail that became ready (MessageChanged THUMBNAIL), but not the same files with URLs signed anew', () => {
    const timeline = new Timeline();
    timeline.add(message(1, { attachments: [attachment('a', null)] }));
    expect(timeline.update(message(1, { attachments: [attachment('a', null, 'https://files.example/a?sig=2')] }))).toBe(false);
    expect(timeline.get(1)!.attachments[0]!.url).toBe('https://files.example/a?sig=1');
    expect(timeline.update(message(1, { attachments: [attachment('a', 'https://files.example/a.thumb')] }))).toBe(true);
    expect(timeline.get(1)!.attachments[0]!.thumbnailUrl).toBe('https://files.example/a.thumb');
    // Deleted: its files go with it.
    expect(timeline.update(message(1, { deletedAt: new Date().toISOString(), attachments: [] }))).toBe(true);
  });

  it('sends the uploads with every attempt of a message, under its one clientId', async () => {
    const attempts: Array<{ clientId: string; attachmentIds: string[]; reject(e: unknown): void }> = [];
    const timers: Array<() => void> = [];
    const outbox = new Outbox({
      send: (input) => new Promise<Message>((_resolve, reject) => attempts.push({ ...input, reject })),
      classify,
      onChange: () => {},
      onSent: () => {},
      newClientId: () => 'client-1',
      setTimer: (fn) => timers.push(fn),
    });
    const files = [{ id: 'upload-1', filename: 'a.png', contentType: 'image/png', size: 100 }];
    outbox.enqueue('r1', '', null, { threadRootId: null, showInRoom: false, mentions: [], files });
    expect(outbox.pending('r1')[0]!.files).toEqual(files);
    attempts[0]!.reject(new ChatRequestError([{ message: 'busy', extensions: { code: 'SERVICE_UNAVAILABLE' } }]));
    await new Promise((resolve) => setTimeout(resolve, 0));
    timers[0]!();
    expect(attempts.map((a) => [a.clientId, a.attachmentIds])).toEqual([
      ['client-1', ['upload-1']],
      ['client-1', ['upload-1']],
    ]);
  });
});
