import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendNames, createBackend, type Backend } from '../support/backends.js';
import { codes, eventually, gql, gqlOk, sleep, Subscription, trackedClients } from '../support/client.js';
import { TestClock } from '../support/clock.js';
import { testAttachments } from '../support/config.js';
import { startLocalS3 } from '../support/s3.js';
import { seeder, type Seed, type TestRoom, type TestUser } from '../support/seed.js';
import type { App, Config } from '../support/server.js';
import {
  ATTACHMENT_FIELDS,
  createUpload,
  createUploadRaw,
  download,
  jpegWithExif,
  pdf,
  png,
  put,
  uploaded,
} from '../support/uploads.js';

/**
 * Attachments as a client sees them, on each storage: the embedded disk (the
 * server takes the PUT and serves the GET) and an S3-compatible server on
 * loopback. The rules: contract/chat.graphql, "Attachments".
 */

const SEND = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { id seq body attachments { ${ATTACHMENT_FIELDS} } }
}`;
const HISTORY = `query($r: ID!) { messages(roomId: $r, last: 50) { edges { node { id body deletedAt attachments { ${ATTACHMENT_FIELDS} } } } } }`;
const DELETE = 'mutation($m: ID!) { deleteMessage(id: $m) { id deletedAt attachments { id } } }';

interface Attachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  url: string;
  width: number | null;
  height: number | null;
  thumbnailUrl: string | null;
}

type StorageKind = 'disk' | 's3';
const storages: StorageKind[] = ['disk', 's3'];

/** The embedded disk (the process's test directory), or an S3-compatible server on loopback (support/s3.ts). */
async function storageSettings(kind: StorageKind): Promise<{ attachments: Config['attachments']; close(): Promise<void> }> {
  if (kind === 'disk') return { attachments: testAttachments(), close: async () => {} };
  const s3 = await startLocalS3();
  const { endpoint, bucket, region, accessKeyId, secretAccessKey, forcePathStyle } = s3;
  return {
    attachments: testAttachments({
      storage: { kind: 's3', endpoint, bucket, region, accessKeyId, secretAccessKey, forcePathStyle },
    }),
    close: () => s3.close(),
  };
}

for (const backendName of backendNames()) {
  for (const storageKind of storages) {
    describe(`Attachments [${backendName}, ${storageKind}]`, () => {
      let backend: Backend;
      let a: App;
      let b: App;
      let seed: Seed;
      let storage: Awaited<ReturnType<typeof storageSettings>>;
      const connect = trackedClients();

      beforeAll(async () => {
        storage = await storageSettings(storageKind);
        backend = await createBackend(backendName);
        [a, b] = await Promise.all([
          backend.startApp({ attachments: storage.attachments }),
          backend.startApp({ attachments: storage.attachments }),
        ]);
        seed = seeder(a);
      });
      afterAll(async () => {
        await backend?.dispose();
        await storage?.close();
      });

      const send = (app: App, user: TestUser, room: TestRoom, input: Record<string, unknown>) =>
        gql(app, SEND, { input: { roomId: room.id, body: '', ...input } }, user.token);
      const sent = async (app: App, user: TestUser, room: TestRoom, input: Record<string, unknown>) => {
        const result = await send(app, user, room, input);
        expect(result.errors).toBeUndefined();
        return result.data!.sendMessage as { id: string; seq: number; body: string; attachments: Attachment[] };
      };
      const reasonOf = (result: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) =>
        result.errors?.map((e) => [e.extensions?.code, e.extensions?.reason]);
      const history = async (app: App, user: TestUser, room: TestRoom) =>
        (await gqlOk(app, HISTORY, { r: room.id }, user.token)).messages.edges.map(
          (e: { node: { id: string; body: string; attachments: Attachment[] } }) => e.node,
        );
      const lastSeq = async (user: TestUser, room: TestRoom) =>
        (
          await gqlOk(
            a,
            'query($r: ID!) { messages(roomId: $r, last: 1) { edges { node { seq } } } }',
            { r: room.id },
            user.token,
          )
        ).messages.edges[0]?.node.seq ?? 0;

      it('round trip: createUpload, PUT, send with an empty body, and the URL serves the same bytes to a member', async () => {
        const { alice, bob, room } = await seed.roomWithTwoMembers();
        const bytes = await png(40, 30);
        const id = await uploaded(a, alice, room, bytes, 'image/png', 'red dot.png');
        const message = await sent(a, alice, room, { attachmentIds: [id] });
        expect(message.body).toBe('');
        expect(message.attachments).toEqual([
          expect.objectContaining({
            id,
            filename: 'red dot.png',
            contentType: 'image/png',
            size: bytes.length,
            width: 40,
            height: 30,
          }),
        ]);
        // bob reads it in history, on the other instance, and fetches the file.
        const [seen] = (await history(b, bob, room)).filter((m: { id: string }) => m.id === message.id);
        const response = await download(seen.attachments[0].url);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('image/png');
        expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
      });

      it('an upload created on one instance is attached on the other, and live subscribers get it with its URL', async () => {
        const { alice, bob, room } = await seed.roomWithTwoMembers();
        const sub = new Subscription(
          connect(b, bob.token),
          `subscription($r: ID!) { messageAdded(roomId: $r) { id attachments { ${ATTACHMENT_FIELDS} } } }`,
          { r: room.id },
        );
        await eventually(async () => {
          await seed.send(alice, room, 'warm-up');
          return sub.values.length > 0;
        }, 'the subscription is live');
        const bytes = pdf();
        const id = await uploaded(a, alice, room, bytes, 'application/pdf', 'notes.pdf');
        const message = await sent(b, alice, room, { attachmentIds: [id], body: 'the notes' });
        await sub.until(() => sub.values.some((v) => v.messageAdded.id === message.id));
        const live = sub.values.find((v) => v.messageAdded.id === message.id).messageAdded.attachments as Attachment[];
        expect(live).toEqual([
          expect.objectContaining({ id, contentType: 'application/pdf', width: null, height: null, thumbnailUrl: null }),
        ]);
        const response = await download(live[0]!.url);
        expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
        sub.dispose();
      });

      it('refuses a PUT of more bytes than declared, and the send then finds no bytes (UPLOAD_MISSING)', async () => {
        const { alice, room } = await seed.roomWithTwoMembers();
        const declared = pdf();
        const upload = await createUpload(a, alice, room, { contentType: 'application/pdf', size: declared.length });
        const response = await put(upload, Buffer.concat([declared, Buffer.alloc(1000, 0x20)])).catch(() => null);
        expect(response === null || response.status >= 400).toBe(true);
        expect(reasonOf(await send(a, alice, room, { attachmentIds: [upload.id] }))).toEqual([
          ['BAD_USER_INPUT', 'UPLOAD_MISSING'],
        ]);
      });

      it('refuses a PNG declared as a PDF with UPLOAD_MISMATCH, storing nothing', async () => {
        const { alice, room } = await seed.roomWithTwoMembers();
        const before = await lastSeq(alice, room);
        const id = await uploaded(a, alice, room, await png(), 'application/pdf', 'sneaky.pdf');
        expect(reasonOf(await send(a, alice, room, { attachmentIds: [id], body: 'look' }))).toEqual([
          ['BAD_USER_INPUT', 'UPLOAD_MISMATCH'],
        ]);
        expect(await lastSeq(alice, room)).toBe(before);
      });

      it("refuses another user's upload and one of another room with UPLOAD_MISSING", async () => {
        const { alice, bob, room } = await seed.roomWithTwoMembers();
        const other = await seed.room(alice);
        const alices = await uploaded(a, alice, room, pdf(), 'application/pdf');
        expect(reasonOf(await send(a, bob, room, { attachmentIds: [alices] }))).toEqual([['BAD_USER_INPUT', 'UPLOAD_MISSING']]);
        expect(reasonOf(await send(a, alice, other, { attachmentIds: [alices] }))).toEqual([
          ['BAD_USER_INPUT', 'UPLOAD_MISSING'],
        ]);
        // An upload whose bytes never came.
        const empty = await createUpload(a, alice, room, { contentType: 'application/pdf', size: 100 });
        expect(reasonOf(await send(a, alice, room, { attachmentIds: [empty.id] }))).toEqual([
          ['BAD_USER_INPUT', 'UPLOAD_MISSING'],
        ]);
      });

      it('refuses an upload used twice with UPLOAD_USED, while a clientId repeat answers the same message and attachments', async () => {
        const { alice, room } = await seed.roomWithTwoMembers();
        const id = await uploaded(a, alice, room, pdf(), 'application/pdf');
        const first = await sent(a, alice, room, { attachmentIds: [id], clientId: 'c-1' });
        const repeat = await sent(b, alice, room, { attachmentIds: [id], clientId: 'c-1' });
        expect(repeat.id).toBe(first.id);
        expect(repeat.attachments.map((x) => x.id)).toEqual([id]);
        expect(reasonOf(await send(a, alice, room, { attachmentIds: [id], clientId: 'c-2' }))).toEqual([
          ['BAD_USER_INPUT', 'UPLOAD_USED'],
        ]);
      });

      it("a non-member's createUpload is FORBIDDEN; a muted member's too", async () => {
        const { alice, bob, room } = await seed.roomWithTwoMembers();
        const dave = await seed.user('dave');
        expect(codes(await createUploadRaw(a, dave, room, { contentType: 'image/png', size: 10 }))).toEqual(['FORBIDDEN']);
        await gqlOk(
          a,
          'mutation($r: ID!, $u: ID!) { muteMember(roomId: $r, userId: $u, durationSeconds: 600) { role } }',
          { r: room.id, u: bob.id },
          alice.token,
        );
        const muted = await createUploadRaw(a, bob, room, { contentType: 'image/png', size: 10 });
        expect(reasonOf(muted)).toEqual([['FORBIDDEN', 'MUTED']]);
      });

      it('refuses what the contract does not allow: a type off the list, a size out of range, a path in the name, an 11th attachment', async () => {
        const { alice, room } = await seed.roomWithTwoMembers();
        const refused = async (file: { filename?: string; contentType: string; size: number }) => {
          const result = await createUploadRaw(a, alice, room, file);
          return [codes(result), (result.errors?.[0]?.extensions as { field?: string } | undefined)?.field];
        };
        expect(await refused({ contentType: 'text/html', size: 10 })).toEqual([['BAD_USER_INPUT'], 'contentType']);
        expect(await refused({ contentType: 'image/png', size: 0 })).toEqual([['BAD_USER_INPUT'], 'size']);
        expect(await refused({ contentType: 'image/png', size: 25 * 1024 * 1024 + 1 })).toEqual([['BAD_USER_INPUT'], 'size']);
        expect(await refused({ filename: '../../etc/passwd', contentType: 'image/png', size: 10 })).toEqual([
          ['BAD_USER_INPUT'],
          'filename',
        ]);
        expect(await refused({ filename: 'x'.repeat(256), contentType: 'image/png', size: 10 })).toEqual([
          ['BAD_USER_INPUT'],
          'filename',
        ]);
        const ids = await Promise.all(Array.from({ length: 11 }, () => uploaded(a, alice, room, pdf(), 'application/pdf')));
        expect(codes(await send(a, alice, room, { attachmentIds: ids }))).toEqual(['BAD_USER_INPUT']);
        expect((await sent(a, alice, room, { attachmentIds: ids.slice(0, 10) })).attachments).toHaveLength(10);
      });

      it('holds at most 20 unused uploads per user (RATE_LIMITED), and sending frees places', async () => {
        const [carol] = await seed.users('carol');
        const room = await seed.room(carol);
        const ids = await Promise.all(Array.from({ length: 20 }, () => uploaded(a, carol, room, pdf(), 'application/pdf')));
        const over = await createUploadRaw(b, carol, room, { contentType: 'application/pdf', size: 10 });
        expect(codes(over)).toEqual(['RATE_LIMITED']);
        expect((over.errors![0]!.extensions as { retryAfter: number }).retryAfter).toBeGreaterThan(0);
        await sent(a, carol, room, { attachmentIds: ids.slice(0, 2) });
        await createUpload(b, carol, room, { contentType: 'application/pdf', size: 10 });
      });

      it('deleting a message deletes its files: their URLs answer 404, and it shows no attachments', async () => {
        const { alice, bob, room } = await seed.roomWithTwoMembers();
        const id = await uploaded(a, alice, room, await png(), 'image/png');
        const message = await sent(a, alice, room, { attachmentIds: [id] });
        const { url } = message.attachments[0]!;
        expect((await download(url)).status).toBe(200);
        const deleted = (await gqlOk(a, DELETE, { m: message.id }, alice.token)).deleteMessage;
        expect(deleted.attachments).toEqual([]);
        await eventually(async () => (await download(url)).status === 404, 'the file answers 404');
        const [seen] = (await history(a, bob, room)).filter((m: { id: string }) => m.id === message.id);
        expect(seen.attachments).toEqual([]);
      });

      it('makes a thumbnail of at most 320 px without EXIF, and tells the room with MessageChanged THUMBNAIL', async () => {
        const { alice, bob, room } = await seed.roomWithTwoMembers();
        const sub = new Subscription(
          connect(b, bob.token),
          `subscription($r: ID!) { roomEvents(roomId: $r) { __typename ... on MessageChanged { change message { id attachments { ${ATTACHMENT_FIELDS} } } } } }`,
          { r: room.id },
        );
        const photo = await jpegWithExif(800, 600);
        expect((await sharp(photo).metadata()).exif).toBeDefined();
        const id = await uploaded(a, alice, room, photo, 'image/jpeg', 'photo.jpg');
        const message = await sent(a, alice, room, { attachmentIds: [id] });
        expect(message.attachments[0]).toMatchObject({ width: 800, height: 600 });
        await sub.until(() => sub.values.some((v) => v.roomEvents.change === 'THUMBNAIL'), 20_000, 'THUMBNAIL');
        const changed = sub.values.find((v) => v.roomEvents.change === 'THUMBNAIL').roomEvents.message;
        expect(changed.id).toBe(message.id);
        const thumbnailUrl = changed.attachments[0].thumbnailUrl as string;
        const thumbnail = Buffer.from(await (await download(thumbnailUrl)).arrayBuffer());
        const metadata = await sharp(thumbnail).metadata();
        expect(Math.max(metadata.width, metadata.height)).toBe(320);
        expect(metadata.exif).toBeUndefined();
        expect(metadata.xmp).toBeUndefined();
        // History shows it too.
        const [seen] = (await history(a, bob, room)).filter((m: { id: string }) => m.id === message.id);
        expect(seen.attachments[0].thumbnailUrl).not.toBeNull();
        sub.dispose();
      });
    });
  }
}

describe('Attachments: expiry and the sweep [embedded, disk]', () => {
  let backend: Backend;
  let app: App;
  let seed: Seed;
  const clock = new TestClock();
  const settings = testAttachments({ uploadUrlSeconds: 1, sweepMs: 100, pendingPerUser: 1 });

  beforeAll(async () => {
    backend = await createBackend('embedded');
    app = await backend.startApp({ attachments: settings }, { clock });
    seed = seeder(app);
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('refuses a PUT after the upload URL expired', async () => {
    const { alice, room } = await seed.roomWithTwoMembers();
    const upload = await createUpload(app, alice, room, { contentType: 'application/pdf', size: pdf().length });
    clock.advanceSeconds(5);
    expect((await put(upload, pdf())).status).toBe(403);
  });

  it('serves a download URL for at least an hour, and refuses it once it expired', async () => {
    const [erin] = await seed.users('erin');
    const room = await seed.room(erin);
    const id = await uploaded(app, erin, room, pdf(), 'application/pdf');
    const message = (await gqlOk(app, SEND_URL, { input: { roomId: room.id, body: '', attachmentIds: [id] } }, erin.token))
      .sendMessage;
    const { url } = message.attachments[0] as { url: string };
    clock.advanceSeconds(3600);
    expect((await download(url)).status).toBe(200);
    clock.advanceSeconds(20 * 60);
    expect((await download(url)).status).toBe(403);
  });

  it('deletes an upload unused past its lifetime (24 h), bytes and all: its place is free and it can no longer be attached', async () => {
    const { alice, room } = await seed.roomWithTwoMembers();
    const id = await uploaded(app, alice, room, pdf(), 'application/pdf');
    // pendingPerUser is 1 here: a second upload waits for the first to be used or swept.
    expect(codes(await createUploadRaw(app, alice, room, { contentType: 'application/pdf', size: 10 }))).toEqual([
      'RATE_LIMITED',
    ]);
    clock.advanceSeconds(23 * 3600);
    await sleep(300); // three sweeps: it is not old enough yet
    expect(codes(await createUploadRaw(app, alice, room, { contentType: 'application/pdf', size: 10 }))).toEqual([
      'RATE_LIMITED',
    ]);
    clock.advanceSeconds(2 * 3600);
    await eventually(
      async () => (await createUploadRaw(app, alice, room, { contentType: 'application/pdf', size: 10 })).errors === undefined,
      'a place is free again',
    );
    const file = join(settings.storage.kind === 'disk' ? settings.storage.dir : '', id);
    await eventually(async () => !existsSync(file), 'its file is deleted');
    const result = await gql(app, SEND_ONE, { input: { roomId: room.id, body: '', attachmentIds: [id] } }, alice.token);
    expect((result.errors?.[0]?.extensions as { reason?: string } | undefined)?.reason).toBe('UPLOAD_MISSING');
  });
});

const SEND_ONE = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }';
const SEND_URL = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id attachments { url } } }';
