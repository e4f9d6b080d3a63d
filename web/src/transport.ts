import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  AddReactionDocument,
  BanMemberDocument,
  createChatClient,
  CreateRoomDocument,
  CreateUploadDocument,
  DeleteMessageDocument,
  EditMessageDocument,
  FindUsersDocument,
  InviteToRoomDocument,
  JoinRoomDocument,
  KickMemberDocument,
  LeaveRoomDocument,
  MarkReadDocument,
  MarkThreadReadDocument,
  MessageAddedDocument,
  MessagesDocument,
  MuteMemberDocument,
  MyEventsDocument,
  OpenDirectRoomDocument,
  PinMessageDocument,
  PinnedMessagesDocument,
  PublicRoomsDocument,
  RegisterPushSubscriptionDocument,
  RemoveReactionDocument,
  ReportMessageDocument,
  RoomCountsDocument,
  RoomDocument,
  RoomEventsDocument,
  SearchMessagesDocument,
  SendMessageDocument,
  SetMemberRoleDocument,
  SetRoomNotificationsDocument,
  SetTypingDocument,
  SubscribeThreadDocument,
  ThreadMessagesDocument,
  tokenExpiry,
  UnpinMessageDocument,
  UnregisterPushSubscriptionDocument,
  UnsubscribeThreadDocument,
  UpdateRoomDocument,
  VapidPublicKeyDocument,
  type ChatClient,
  type MessagesQuery,
  type MyEventsSubscription,
  type NotificationLevel,
  type PushSubscriptionInput,
  type ReportReason,
  type RoomEventsSubscription,
  type RoomRole,
  type RoomVisibility,
  type TokenRefresher,
} from '../../client/index.js';
import { httpRequest } from './api.js';
import { putFile, type Uploader } from './attachments.js';
import type { Message, Page } from './timeline.js';
import type { ConnectionStatus } from './views.js';

export type RoomEvent = RoomEventsSubscription['roomEvents'];
export type UserEvent = MyEventsSubscription['myEvents'];

const PAGE = 30;
/** A thread's replies are read in pages this big. */
const THREAD_PAGE = 50;
const SESSION_ENDED = 'Your session has ended. Sign in again.';

/** Waits before reconnect attempt `retries` (0 first): 0.5 s doubling to 8 s, with jitter. */
const retryDelay = (retries: number) => Math.min(8000, 500 * 2 ** retries) * (0.5 + Math.random() / 2);

export interface TransportEvents {
  /** A refreshed token (kept by the caller for the next page load). */
  onToken(token: string): void;
  onStatus(status: ConnectionStatus): void;
  /** The server no longer takes the session's token. */
  onSessionEnded(reason: string): void;
  /** A lost socket is back: what roomEvents and myEvents missed meanwhile is to be read again. */
  onReconnected(): void;
}

/**
 * The page's traffic: GraphQL over HTTP for queries and mutations, and every
 * subscription through the kit, so a lost socket or a restarted server
 * resumes messageAdded where it stopped. Holds the token, refreshed before it
 * expires, and the socket's status.
 */
export class ChatTransport {
  private token: string;
  private currentStatus: ConnectionStatus = 'connecting';
  private readonly client: ChatClient;
  private readonly refresher: TokenRefresher;
  /** Ends the wait before the next reconnect attempt, while there is one. */
  private wakeRetry: (() => void) | null = null;
  private readonly onOnline = () => this.reconnectNow(true);
  private readonly onFocus = () => this.reconnectNow(false);
  private readonly onVisible = () => document.visibilityState === 'visible' && this.reconnectNow(false);

  constructor(
    token: string,
    private readonly events: TransportEvents,
  ) {
    this.token = token;
    const currentToken = () => this.token;
    this.client = createChatClient({
      url: () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
      token: currentToken,
      onReconnected: () => events.onReconnected(),
      retryWait: (retries) => this.waitToRetry(retries),
    });
    addEventListener('online', this.onOnline);
    addEventListener('focus', this.onFocus);
    document.addEventListener('visibilitychange', this.onVisible);
    const ws = this.client.ws;
    ws.on('connecting', () => this.setStatus(this.currentStatus === 'online' ? 'reconnecting' : this.currentStatus));
    ws.on('connected', () => this.setStatus('online'));
    ws.on('closed', (event) => {
      const { code, reason } = event as { code?: number; reason?: string };
      // 4403: the token is refused. At its expiry the retry signs in with the refreshed one; any
      // other refusal (or an expired token with no fresh one) cannot be retried away.
      const expired = (tokenExpiry(this.token) ?? Infinity) <= Date.now();
      if (code === 4403 && (reason !== 'Token expired' || expired)) events.onSessionEnded(SESSION_ENDED);
      else this.setStatus('reconnecting');
    });
    this.refresher = this.client.keepTokenFresh({
      getToken: currentToken,
      onToken: (fresh) => {
        this.token = fresh;
        events.onToken(fresh);
      },
    });
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  myRooms() {
    return this.client.refreshMyRooms();
  }

  publicRooms(query: string) {
    return this.request(PublicRoomsDocument, { query: query || null, first: 50 }).then((r) => r.publicRooms);
  }

  createRoom(name: string, visibility: RoomVisibility) {
    return this.request(CreateRoomDocument, { input: { name, visibility } }).then((r) => r.createRoom);
  }

  joinRoom(roomId: string) {
    return this.request(JoinRoomDocument, { roomId }).then((r) => r.joinRoom);
  }

  leaveRoom(roomId: string) {
    return this.request(LeaveRoomDocument, { roomId }).then((r) => r.leaveRoom);
  }

  inviteToRoom(roomId: string, userId: string) {
    return this.request(InviteToRoomDocument, { roomId, userId }).then((r) => r.inviteToRoom);
  }

  openDirectRoom(userId: string) {
    return this.request(OpenDirectRoomDocument, { userId }).then((r) => r.openDirectRoom);
  }

  /** People whose username starts with `query` (case-insensitive). */
  findUsers(query: string, first = 8) {
    return this.request(FindUsersDocument, { query, first }).then((r) => r.users);
  }

  searchMessages(query: string, roomId: string | null = null) {
    return this.request(SearchMessagesDocument, { query, roomId, first: 30 }).then((r) => r.searchMessages);
  }

  editMessage(id: string, body: string) {
    return this.request(EditMessageDocument, { input: { id, body } }).then((r) => r.editMessage);
  }

  deleteMessage(id: string) {
    return this.request(DeleteMessageDocument, { id }).then((r) => r.deleteMessage);
  }

  addReaction(messageId: string, emoji: string) {
    return this.request(AddReactionDocument, { messageId, emoji }).then((r) => r.addReaction);
  }

  removeReaction(messageId: string, emoji: string) {
    return this.request(RemoveReactionDocument, { messageId, emoji }).then((r) => r.removeReaction);
  }

  muteMember(roomId: string, userId: string, durationSeconds: number) {
    return this.request(MuteMemberDocument, { roomId, userId, durationSeconds }).then((r) => r.muteMember);
  }

  kickMember(roomId: string, userId: string) {
    return this.request(KickMemberDocument, { roomId, userId }).then((r) => r.kickMember);
  }

  /** durationSeconds null: until lifted. */
  banMember(roomId: string, userId: string, durationSeconds: number | null) {
    return this.request(BanMemberDocument, { roomId, userId, durationSeconds }).then((r) => r.banMember);
  }

  setMemberRole(roomId: string, userId: string, role: RoomRole) {
    return this.request(SetMemberRoleDocument, { roomId, userId, role }).then((r) => r.setMemberRole);
  }

  updateRoomSettings(roomId: string, settings: { slowModeSeconds: number; frozen: boolean }) {
    return this.request(UpdateRoomDocument, { input: { roomId, ...settings } }).then((r) => r.updateRoom);
  }

  reportMessage(messageId: string, reason: ReportReason, details: string | null) {
    return this.request(ReportMessageDocument, { messageId, reason, details }).then((r) => r.reportMessage);
  }

  /** The room with its members. */
  room(id: string) {
    return this.request(RoomDocument, { id }).then((r) => r.room);
  }

  /** The room's unread counts alone (the room list's badges). */
  roomCounts(id: string) {
    return this.request(RoomCountsDocument, { id }).then((r) => r.room);
  }

  /** The newest page of the room's timeline: thread replies are left out, except those sent to the room too. */
  newestMessages(roomId: string): Promise<Page> {
    return this.request(MessagesDocument, { roomId, last: PAGE, view: 'TIMELINE' }).then((r) => toPage(r.messages));
  }

  olderMessages(roomId: string, before: string | null, size = PAGE): Promise<Page> {
    return this.request(MessagesDocument, { roomId, last: size, before, view: 'TIMELINE' }).then((r) => toPage(r.messages));
  }

  /** A thread's replies: the newest page, or the one before `before`. */
  threadReplies(threadRootId: string, before: string | null = null): Promise<Page> {
    return this.request(ThreadMessagesDocument, { threadRootId, last: THREAD_PAGE, before }).then((r) =>
      toPage(r.threadMessages),
    );
  }

  /**
   * A message; a thread reply (threadRootId, showInRoom), mentions (member
   * ids) and attachments (uploads) go only when there are any.
   */
  sendMessage(message: {
    roomId: string;
    body: string;
    clientId: string;
    replyToId?: string | null;
    threadRootId?: string | null;
    showInRoom?: boolean;
    mentions?: string[];
    attachmentIds?: string[];
  }) {
    const { threadRootId, showInRoom, mentions, attachmentIds, ...input } = message;
    const extras = {
      ...(threadRootId ? { threadRootId, showInRoom: showInRoom === true } : {}),
      ...(mentions?.length ? { mentions } : {}),
      ...(attachmentIds?.length ? { attachmentIds } : {}),
    };
    return this.request(SendMessageDocument, { input: { ...input, ...extras } }).then((r) => r.sendMessage);
  }

  /** Files for messages: an upload URL from the server, then the bytes PUT straight to the storage. */
  readonly uploader: Uploader = {
    createUpload: (input) => this.request(CreateUploadDocument, { input }).then((r) => r.createUpload),
    put: putFile,
  };

  markRead(roomId: string, seq: number) {
    return this.request(MarkReadDocument, { roomId, seq }).then((r) => r.markRead);
  }

  markThreadRead(threadRootId: string, seq: number) {
    return this.request(MarkThreadReadDocument, { threadRootId, seq }).then((r) => r.markThreadRead);
  }

  /** Follows (or stops following) a thread. */
  followThread(threadRootId: string, follow: boolean) {
    return follow
      ? this.request(SubscribeThreadDocument, { threadRootId }).then((r) => r.subscribeThread)
      : this.request(UnsubscribeThreadDocument, { threadRootId }).then((r) => r.unsubscribeThread);
  }

  /** The room's pinned messages, newest pin first. */
  pinnedMessages(roomId: string) {
    return this.request(PinnedMessagesDocument, { roomId }).then((r) => r.room?.pinnedMessages ?? []);
  }

  pin(messageId: string, pinned: boolean) {
    return pinned
      ? this.request(PinMessageDocument, { messageId }).then((r) => r.pinMessage)
      : this.request(UnpinMessageDocument, { messageId }).then((r) => r.unpinMessage);
  }

  /** What notifies the viewer in a room when they are not connected; mutedUntil null: not muted. */
  setRoomNotifications(roomId: string, level: NotificationLevel, mutedUntil: string | null) {
    return this.request(SetRoomNotificationsDocument, { roomId, level, mutedUntil }).then((r) => r.setRoomNotifications);
  }

  /** The server's VAPID public key (base64url) for PushManager.subscribe; null when Web Push is off there. */
  vapidPublicKey() {
    return this.request(VapidPublicKeyDocument, {}).then((r) => r.vapidPublicKey ?? null);
  }

  /** Registers this browser's push subscription for the signed-in user (idempotent per endpoint). */
  registerPushSubscription(input: PushSubscriptionInput) {
    return this.request(RegisterPushSubscriptionDocument, { input }).then((r) => r.registerPushSubscription);
  }

  unregisterPushSubscription(endpoint: string) {
    return this.request(UnregisterPushSubscriptionDocument, { endpoint }).then((r) => r.unregisterPushSubscription);
  }

  setTyping(roomId: string, typing: boolean) {
    return this.request(SetTypingDocument, { roomId, typing });
  }

  /** Live messages after the cursor `after` (the server replays what came after it); returns the unsubscribe. */
  subscribeMessages(
    roomId: string,
    after: string | null,
    handlers: { onMessage(message: Message): void; onError(text: string): void },
  ): () => void {
    return this.client.subscribe(
      MessageAddedDocument,
      { roomId, after },
      {
        next: (result) => {
          if (result.data) handlers.onMessage(result.data.messageAdded);
          if (result.errors?.length) handlers.onError(result.errors[0]!.message);
        },
        error: (error) => handlers.onError(describeSubscriptionError(error)),
      },
    );
  }

  subscribeRoomEvents(roomId: string, onEvent: (event: RoomEvent) => void): () => void {
    return this.client.subscribe(
      RoomEventsDocument,
      { roomId },
      { next: (result) => result.data && onEvent(result.data.roomEvents) },
    );
  }

  subscribeMyEvents(onEvent: (event: UserEvent) => void): () => void {
    return this.client.subscribe(MyEventsDocument, {}, { next: (result) => result.data && onEvent(result.data.myEvents) });
  }

  /**
   * Tries the socket again now instead of at the end of its backoff: the
   * browser is back online, the tab got focus, or an HTTP request just
   * worked, so the server is likely there. Coming back online also drops
   * an open socket, which may have died with the old network unnoticed
   * (messageAdded resumes from its cursor; the rest is fetched again).
   */
  reconnectNow(networkChanged: boolean): void {
    if (this.wakeRetry) this.wakeRetry();
    else if (networkChanged && this.currentStatus === 'online') this.client.ws.terminate();
  }

  dispose(): void {
    removeEventListener('online', this.onOnline);
    removeEventListener('focus', this.onFocus);
    document.removeEventListener('visibilitychange', this.onVisible);
    this.wakeRetry = null;
    this.refresher.stop();
    void this.client.dispose();
  }

  /** The wait before a reconnect attempt: the backoff, cut short by reconnectNow; while the browser is offline, until it is online again. */
  private waitToRetry(retries: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = navigator.onLine ? setTimeout(() => done(), retryDelay(retries)) : undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.wakeRetry === done) this.wakeRetry = null;
        resolve();
      };
      this.wakeRetry = done;
    });
  }

  private setStatus(next: ConnectionStatus) {
    if (next === this.currentStatus) return;
    this.currentStatus = next;
    this.events.onStatus(next);
  }

  /** An HTTP operation with the current token; one the server refuses as UNAUTHENTICATED ends the session. */
  private request<R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> {
    return httpRequest(document, variables, this.token).then(
      (result) => {
        // HTTP works: the server is up, so a socket waiting out its backoff may as well try now.
        if (this.currentStatus !== 'online') this.wakeRetry?.();
        return result;
      },
      (error: unknown) => {
        if ((error as { code?: string }).code === 'UNAUTHENTICATED') this.events.onSessionEnded(SESSION_ENDED);
        throw error;
      },
    );
  }
}

function toPage(messages: Pick<MessagesQuery['messages'], 'edges' | 'pageInfo'>): Page {
  return { messages: messages.edges.map((e) => e.node), hasPreviousPage: messages.pageInfo.hasPreviousPage };
}

function describeSubscriptionError(error: unknown): string {
  if (Array.isArray(error)) return (error as Array<{ message: string }>).map((e) => e.message).join('; ');
  return 'The live connection failed; reload the page.';
}
