import { defineFeature } from '../feature.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { eventsResolvers } from './events.resolvers.js';
import { EventsService } from './events.service.js';

/** roomEvents and myEvents: what happens in a room, and to a user across rooms. */
export const eventsFeature = defineFeature({
  name: 'events',
  resolvers: eventsResolvers,
  mappers: {
    MessageChanged: 'MessageChangedEvent',
    MemberChanged: 'MemberChangedEvent',
    TypingChanged: 'TypingChangedEvent',
    ReadReceipt: 'ReadReceiptEvent',
    NewMessage: 'NewMessageEvent',
    RoomAdded: 'RoomAddedEvent',
    RoomRemoved: 'RoomRemovedEvent',
  },
  services: ({ realtime }, { rooms }: { rooms: RoomsService }) => ({ events: new EventsService({ rooms, realtime }) }),
});
