import { defineFeature } from '../feature.js';
import type { MessagesService } from '../messages/messages.service.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { notificationsResolvers } from './notifications.resolvers.js';
import { NotificationsService } from './notifications.service.js';
import { NotificationsStore } from './notifications.store.js';
import { PushNotifier } from './push.notifier.js';
import { PushQueue } from './push.queue.js';
import { PushSender } from './push.sender.js';
import { PushService } from './push.service.js';
import { PushStore } from './push.store.js';
import { createMemoryWindows, createRedisWindows } from './push.windows.js';

/**
 * What notifies each member of each room when they are not connected
 * (setRoomNotifications, Room.notificationLevel), and Web Push to them:
 * browsers register (vapidPublicKey, registerPushSubscription); a send
 * records a row for the push queue in its transaction (this feature
 * extends sendMessage), and the queue of some instance hands the message
 * to PushNotifier.messageCommitted, which batches the pushes.
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
    const pushQueue = push.vapid
      ? new PushQueue({
          ...{ db, redis, pushStore, logger },
          prefix: config.redisPrefix,
          notifier: pushNotifier,
          messages: (ids) => messages.findByIds(ids),
        })
      : null;
    if (pushQueue) messages.extend({ prepareSend: () => pushQueue.prepareSend() });
    return {
      notifications: new NotificationsService({ store: new NotificationsStore(db), rooms, clock }),
      push: new PushService({ store: pushStore, config: push, registered: () => pushQueue?.subscribed() }),
      pushNotifier,
      pushQueue,
    };
  },
  listen: ({ pushNotifier, pushQueue }, { realtime, logger }) => {
    realtime.hooks.on('presenceChanged', ({ userId, online }) => {
      realtime.publish.track(
        pushNotifier
          .presenceChanged(userId, online)
          .catch((error: Error) => logger.warn('could not note presence for Web Push', { error })),
      );
    });
    pushQueue?.start();
    pushNotifier.start();
    // The queue first: a pass under way finishes counting before the notifier stops taking messages.
    realtime.hooks.on('stopping', () => {
      realtime.publish.track(pushQueue ? pushQueue.stop().then(() => pushNotifier.stop()) : Promise.resolve(pushNotifier.stop()));
    });
  },
});
