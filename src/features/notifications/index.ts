import { defineFeature } from '../feature.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { notificationsResolvers } from './notifications.resolvers.js';
import { NotificationsService } from './notifications.service.js';
import { NotificationsStore } from './notifications.store.js';
import { PushNotifier } from './push.notifier.js';
import { PushSender } from './push.sender.js';
import { PushService } from './push.service.js';
import { PushStore } from './push.store.js';
import { createMemoryWindows, createRedisWindows } from './push.windows.js';

/**
 * What notifies each member of each room when they are not connected
 * (setRoomNotifications, Room.notificationLevel), and Web Push to them:
 * browsers register (vapidPublicKey, registerPushSubscription), and every
 * committed message goes through PushNotifier.messageCommitted, which the
 * messages flow calls after its commit (this feature extends sendMessage).
 */
export const notificationsFeature = defineFeature({
  name: 'notifications',
  resolvers: notificationsResolvers,
  services: (
    { db, clock, config, realtime, redis, logger },
    { rooms, messages }: { rooms: RoomsService; messages: MessagesService },
  ) => {
    const pushStore = new PushStore(db);
    const { push } = config;
    const pushNotifier = new PushNotifier({
      store: pushStore,
      windows: redis ? createRedisWindows(redis, config.redisPrefix) : createMemoryWindows(),
      presence: realtime.presence,
      sender: push.vapid ? new PushSender(push.vapid, push.timeoutMs) : null,
      clock,
      logger,
      batchMs: push.batchMs,
      offlineMs: push.offlineMs,
    });
    // After the commit, never in the way of the send: its answer does not wait for the pushes' bookkeeping.
    const committed = (message: Parameters<PushNotifier['messageCommitted']>[0]) =>
      realtime.publish.track(
        pushNotifier
          .messageCommitted(message)
          .catch((error: Error) => logger.warn('could not count a message for Web Push', { error })),
      );
    messages.extend({ prepareSend: () => Promise.resolve({ fields: {}, announce: (written) => committed(written) }) });
    return {
      notifications: new NotificationsService({ store: new NotificationsStore(db), rooms, clock }),
      push: new PushService({ store: pushStore, config: push }),
      pushNotifier,
    };
  },
  listen: ({ pushNotifier }, { realtime, logger }) => {
    realtime.hooks.on('presenceChanged', ({ userId, online }) => {
      realtime.publish.track(
        pushNotifier
          .presenceChanged(userId, online)
          .catch((error: Error) => logger.warn('could not note presence for Web Push', { error })),
      );
    });
    realtime.hooks.on('stopping', () => pushNotifier.stop());
  },
});
